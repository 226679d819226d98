"""``python -m services.intake``: run the intake service on its own."""

from infra.service import serve
from services.intake.app import make_app, periodic, routers

serve("intake", make_app, routers=routers, periodic=periodic)
