"""``python -m services.billing``: run the billing service on its own."""

from infra.service import serve
from services.billing.app import make_app, periodic, routers

serve("billing", make_app, routers=routers, periodic=periodic)
