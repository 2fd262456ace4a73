"""`python -m services.routing`: build settings once and serve."""

from services.routing.app import create_app
from services.routing.settings import RoutingSettings
from shared.http import serve

if __name__ == "__main__":
    settings = RoutingSettings()
    serve(create_app(settings), settings)
