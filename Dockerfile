# One image for the three services; compose.yaml picks the service by its command.
FROM python:3.11-slim
# Pango and a font for billing's statement PDF (WeasyPrint); nothing else needs them.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 \
    libpangoft2-1.0-0 fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY events ./events
COPY infra ./infra
COPY services ./services
COPY lots ./lots
RUN pip install --no-cache-dir .
ENV LOTS_HTTP_HOST=0.0.0.0 LOTS_VAR_DIR=/app/var
USER nobody
