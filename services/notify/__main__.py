"""`python -m services.notify`: build settings once and serve."""

from services.notify.app import create_app
from services.notify.settings import NotifySettings
from shared.http import serve

if __name__ == "__main__":
    settings = NotifySettings()
    serve(create_app(settings), settings)
