"""``python -m services.scheduling``: run the scheduling service on its own."""

from infra.service import serve
from services.scheduling.app import make_app

serve("scheduling", make_app)
