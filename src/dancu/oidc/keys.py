"""The provider's signing keys: RSA private keys in PEM files under ``DANCU_OIDC_KEY_DIR``
(default ``DATA_DIR/oidc-keys``), listed in ``keys.json``:

    {"active": "20261122T101500.pem", "inactive": ["20260101T000000.pem"]}

The active key signs ID tokens; inactive keys are still published in the JWKS so that tokens
they signed keep verifying until they are retired (``dancu oidc keys rotate`` / ``retire``).
Servers read the keys at start-up: restart them after a rotation. Imported by settings, so it
must not import Django models.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

MANIFEST = "keys.json"


def _manifest(directory: Path) -> dict:
    path = directory / MANIFEST
    if not path.exists():
        return {"active": None, "inactive": []}
    return json.loads(path.read_text())


def _write_manifest(directory: Path, data: dict) -> None:
    tmp = directory / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, directory / MANIFEST)


def new_key(directory: Path) -> str:
    """Generates an RSA-2048 key file; returns its file name."""
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f") + ".pem"
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path = directory / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return name


def load(directory: Path, *, create: bool) -> tuple[str, list[str]]:
    """(active PEM, inactive PEMs). With ``create`` a first key is made if there is none
    (development); otherwise an empty active PEM is returned and the caller decides."""
    data = _manifest(directory)
    if not data.get("active"):
        if not create:
            return "", []
        data = {"active": new_key(directory), "inactive": []}
        _write_manifest(directory, data)
    active = (directory / data["active"]).read_text()
    inactive = [(directory / name).read_text() for name in data.get("inactive", [])]
    return active, inactive


def rotate(directory: Path) -> dict:
    """A new active key; the previous one stays published as inactive."""
    data = _manifest(directory)
    new = new_key(directory)
    inactive = list(data.get("inactive", []))
    if data.get("active"):
        inactive.insert(0, data["active"])
    data = {"active": new, "inactive": inactive}
    _write_manifest(directory, data)
    return data


def retire(directory: Path, name: str) -> dict:
    """Stops publishing an inactive key (tokens it signed no longer verify)."""
    data = _manifest(directory)
    if name == data.get("active"):
        raise ValueError("the active key cannot be retired; rotate first")
    if name not in data.get("inactive", []):
        raise ValueError(f"{name} is not an inactive key")
    data["inactive"] = [n for n in data["inactive"] if n != name]
    _write_manifest(directory, data)
    return data


def listing(directory: Path) -> dict:
    return _manifest(directory)
