"""``python -m services.scheduling``: run the scheduling service on its own."""

from infra.service import serve
from services.scheduling.app import make_app, periodic, routers

serve("scheduling", make_app, routers=routers, periodic=periodic)
