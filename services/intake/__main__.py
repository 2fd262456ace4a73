"""`python -m services.intake`: build settings once and serve."""

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from shared.http import serve

if __name__ == "__main__":
    settings = IntakeSettings()
    serve(create_app(settings), settings)
