"""The FastAPI application: routes are thin and call the same services as the CLI."""

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from server.db import get_engine
from server.errors import TrogiupError
from server.indicators.routes import router as indicators_router
from server.settings import Settings, get_settings
from server.submissions.routes import router as submissions_router

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(title="trogiup", version="0.1.0")
    app.state.settings = settings

    @app.exception_handler(TrogiupError)
    async def _domain_error(_request: Request, err: TrogiupError) -> JSONResponse:
        return JSONResponse(status_code=err.http_status, content=err.to_dict())

    app.include_router(indicators_router)
    app.include_router(submissions_router)

    @app.get("/health")
    def health() -> dict[str, object]:
        """Liveness and the one dependency that must answer: the database."""
        with get_engine(settings.effective_database_url).connect() as conn:
            conn.execute(text("SELECT 1"))
        return {
            "status": "ok",
            "database": get_engine(settings.effective_database_url).dialect.name,
            "mode": "embedded" if settings.embedded else "redis",
        }

    return app
