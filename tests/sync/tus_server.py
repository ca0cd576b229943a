"""A real resumable upload server (tus 1.0) on loopback for the sync's large documents:
tuspyserver (FastAPI, pinned in pyproject's `test` extra) in a uvicorn process of its own, its files
in a directory of the test's, behind the same bearer token the FHIR server wants.

What it does as a region's tusd would: creation (POST, `Location`), `HEAD` with `Upload-Offset`,
`PATCH` at the offset it holds (409 otherwise), and it keeps what a cut PATCH had brought (the
bytes streamed before the client vanished), which is what makes a cut link resume. The download
of a finished upload (`GET <upload URL>`: the region serves what DocumentReferences point at) is
added here, as tusd's `GET` does.

    with tus_server(tmp_path, token="t") as uploads:
        uploads.url                 # the cart's `[sync] upload_url`
        uploads.finished()          # {upload id: its bytes}, finished uploads only
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse
from tuspyserver import create_tus_router

from tests.live import free_port
from tests.sync import uvicorn_process

PREFIX = "files"


@dataclass
class TusServer:
    port: int
    directory: Path
    token: str
    max_bytes: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{PREFIX}/"

    def uploads(self) -> dict[str, dict[str, Any]]:
        """Each upload the server knows, by id: its declared size and the offset it holds."""
        found = {}
        for info in self.directory.glob("*.info"):
            found[info.stem] = json.loads(info.read_text())
        return found

    def finished(self) -> dict[str, bytes]:
        return {uid: (self.directory / uid).read_bytes() for uid, info in self.uploads().items() if info.get("offset") == info.get("size")}

    def download(self, url: str) -> bytes:
        reply = requests.get(url, headers={"Authorization": f"Bearer {self.token}"}, timeout=10)
        reply.raise_for_status()
        return reply.content

    def forget_all(self) -> None:
        """As a server whose unfinished uploads expired."""
        for path in self.directory.iterdir():
            if path.is_file():
                path.unlink()


@contextmanager
def tus_server(tmp_path: Path, token: str = "jeton-televersement", max_bytes: int = 64 * 1024 * 1024) -> Iterator[TusServer]:
    directory = tmp_path / "tus"
    directory.mkdir(parents=True)
    server = TusServer(free_port(), directory, token, max_bytes)
    env = {**os.environ, "TUS_DIR": str(directory), "TUS_TOKEN": token, "TUS_MAX_BYTES": str(max_bytes)}
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)

    def ready() -> bool:
        return requests.options(server.url, headers={"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {token}"}, timeout=1).status_code == 204
    proc = uvicorn_process.start("tests.sync.tus_server:app_from_env", server.port, root, env, tmp_path / "tus.log", ready)
    try:
        yield server
    finally:
        uvicorn_process.stop(proc)


def app_from_env() -> Any:
    """The server's app (run by uvicorn in its own process): tus routes and the download."""
    directory, token = Path(os.environ["TUS_DIR"]), os.environ["TUS_TOKEN"]

    def authorised(request: Request) -> None:
        if request.headers.get("Authorization") != f"Bearer {token}":
            raise HTTPException(status_code=401, detail="missing or wrong bearer token")

    app = FastAPI()
    app.include_router(create_tus_router(prefix=PREFIX, files_dir=str(directory), max_size=int(os.environ["TUS_MAX_BYTES"]),
                                         auth=authorised, days_to_keep=1))

    @app.get(f"/{PREFIX}/{{uid}}", dependencies=[Depends(authorised)])
    def download(uid: str) -> FileResponse:
        info = directory / f"{uid}.info"
        if not uid.isalnum() or not info.exists():
            raise HTTPException(status_code=404)
        held = json.loads(info.read_text())
        if held.get("offset") != held.get("size"):
            raise HTTPException(status_code=404, detail="upload not finished")
        return FileResponse(directory / uid)

    return app
