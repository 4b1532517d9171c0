"""The issuing agency's signing key and certificate, and the roots a signature is checked against.

Development (the default): a development CA made on first use under ``DATA_DIR/pki`` (or
``DANCU_DOCUMENTS_PKI_DIR``) — a root CA and an issuing-agency certificate it signs, the keys
written 0600 — so a fresh install signs results with nothing to set up. Its root is the trust
root of verification; any other validator (Adobe, ``pdfsig``) calls the signature valid but the
signer untrusted, as it must for a CA nobody installed.

Production: the agency's certificate comes from the national CA (the Government Cipher
Committee's root, or a licensed CA) as a PKCS#12 file — ``DANCU_DOCUMENTS_SIGNER_PKCS12`` and its
passphrase in ``DANCU_DOCUMENTS_SIGNER_PASSPHRASE`` — and the roots verification trusts as a PEM
file, ``DANCU_DOCUMENTS_TRUST_ROOTS``. With ``DANCU_ENV=production`` and no PKCS#12 file, issuing
a signed document refuses (``ImproperlyConfigured``) instead of making a development CA. A key
held in an HSM is signed through pyHanko's PKCS#11 signer (see docs/documents.md).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from asn1crypto import algos
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as x509_asn1
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.keys import load_certs_from_pemder
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

ROOT_CERT, ROOT_KEY = "root-ca.pem", "root-ca.key"
AGENCY_CERT, AGENCY_KEY = "agency.pem", "agency.key"
ROOT_NAME = "dancu development root CA (not for production)"
AGENCY_NAME = "dancu development issuing agency"


def pki_dir() -> Path:
    configured = getattr(settings, "DANCU_DOCUMENTS_PKI_DIR", None)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "pki"


def _pkcs12() -> str:
    return str(getattr(settings, "DANCU_DOCUMENTS_SIGNER_PKCS12", "") or "")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "dancu (development)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def ensure_dev_ca(directory: Path | None = None) -> Path:
    """The development root CA and agency certificate, made once (under a file lock, so two
    worker processes starting together make one CA). Returns the directory."""
    directory = directory or pki_dir()
    if (directory / AGENCY_CERT).exists() and (directory / ROOT_CERT).exists():
        return directory
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(directory / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (directory / AGENCY_CERT).exists():
            _make_dev_ca(directory)
    return directory


def _make_dev_ca(directory: Path) -> None:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    root_ski = x509.SubjectKeyIdentifier.from_public_key(root_key.public_key())
    root = (x509.CertificateBuilder()
            .subject_name(_name(ROOT_NAME)).issuer_name(_name(ROOT_NAME))
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=20 * 365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(root_ski, critical=False)
            .sign(root_key, hashes.SHA256()))
    agency_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    agency = (x509.CertificateBuilder()
              .subject_name(_name(AGENCY_NAME)).issuer_name(root.subject)
              .public_key(agency_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now).not_valid_after(now + dt.timedelta(days=5 * 365))
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                           key_encipherment=False, data_encipherment=False,
                                           key_agreement=False, key_cert_sign=False, crl_sign=False,
                                           encipher_only=False, decipher_only=False), critical=True)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(agency_key.public_key()),
                             critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski),
                             critical=False)
              .sign(root_key, hashes.SHA256()))
    _write(directory / ROOT_KEY, _key_pem(root_key), 0o600)
    _write(directory / AGENCY_KEY, _key_pem(agency_key), 0o600)
    _write(directory / ROOT_CERT, root.public_bytes(serialization.Encoding.PEM), 0o644)
    # Written last: its presence means the CA is complete.
    _write(directory / AGENCY_CERT, agency.public_bytes(serialization.Encoding.PEM), 0o644)


@dataclass(frozen=True)
class _Material:
    """A signer's key and certificates as DER bytes, and its RSA key parsed by cryptography (an
    immutable object, safe to share). Never an asn1crypto object: those parse lazily and
    re-encode in place (see ``signer``), so one shared by threads is not safe."""

    cert: bytes
    chain: tuple[bytes, ...]
    key: bytes
    mechanism: bytes | None
    rsa_key: rsa.RSAPrivateKey | None


class _KeyLoadedOnce(signers.SimpleSigner):
    """pyHanko's SimpleSigner parses the private key again at every signature — and cryptography
    checks an RSA key's consistency when it loads it (~0.25 s for 3072 bits), twice per document
    (pyHanko signs once to size the signature's room). This one signs with the key parsed once
    per process; its asn1crypto objects are its own, parsed from the material's bytes (one
    signer per thread: see ``signer``)."""

    def __init__(self, material: _Material) -> None:
        mechanism = material.mechanism
        super().__init__(
            signing_cert=x509_asn1.Certificate.load(material.cert),
            signing_key=asn1_keys.PrivateKeyInfo.load(material.key),
            cert_registry=SimpleCertificateStore.from_certs(
                [x509_asn1.Certificate.load(der) for der in material.chain]),
            signature_mechanism=None if mechanism is None else algos.SignedDigestAlgorithm.load(mechanism))
        self._loaded_key = material.rsa_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        try:
            algorithm = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        except ValueError:
            algorithm = ""
        if self._loaded_key is None or algorithm != "rsassa_pkcs1v15" or digest_algorithm != "sha256":
            return super().sign_raw(data, digest_algorithm)
        return self._loaded_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


_threads = threading.local()


def signer() -> signers.SimpleSigner:
    """The issuing agency's signer: the configured PKCS#12 file, else the development CA's (read
    once per process and configuration).

    One signer object per thread, never one shared by the threads of a process: pyHanko puts
    pieces of the signer's certificate (its issuer, its serial number) into each signature's
    signing-certificate attribute, and asn1crypto re-encodes such a structure in place when its
    length is 128 bytes, which it takes for an indefinite length (the header ``81 80``) — the
    development CA's IssuerSerial is exactly that. Two threads signing with one certificate
    object saw its serial number None (``TypeError … not NoneType``) in the other's
    re-encoding. A thread's first signer costs ~1.5 ms (its certificates parsed from bytes)."""
    config = (_pkcs12(), str(getattr(settings, "DANCU_DOCUMENTS_SIGNER_PASSPHRASE", "") or ""),
              str(pki_dir()), bool(getattr(settings, "PRODUCTION", False)))
    mine: dict[tuple[str, str, str, bool], _KeyLoadedOnce] = _threads.__dict__.setdefault("signers", {})
    found = mine.get(config)
    if found is None:
        if len(mine) >= 4:  # configurations only change in tests
            mine.clear()
        found = mine[config] = _KeyLoadedOnce(_material(*config))
    return found


@lru_cache(maxsize=4)
def _material(pkcs12: str, passphrase: str, directory_name: str, production: bool) -> _Material:
    if pkcs12:
        loaded = signers.SimpleSigner.load_pkcs12(pkcs12, passphrase=passphrase.encode() or None)
    else:
        if production:
            raise ImproperlyConfigured(
                "No signing certificate: set DANCU_DOCUMENTS_SIGNER_PKCS12 to the issuing agency's "
                "PKCS#12 file (docs/documents.md); production never makes a development CA")
        directory = ensure_dev_ca(Path(directory_name))
        loaded = signers.SimpleSigner.load(str(directory / AGENCY_KEY), str(directory / AGENCY_CERT),
                                           ca_chain_files=(str(directory / ROOT_CERT),))
    if loaded is None:
        raise ImproperlyConfigured("The signing key or certificate could not be read")
    # ``loaded`` is this call's own (not yet shared), so dumping its objects here is safe.
    key = loaded.signing_key.dump()
    parsed = serialization.load_der_private_key(key, password=None)
    mechanism = loaded.signature_mechanism
    return _Material(cert=loaded.signing_cert.dump(),
                     chain=tuple(cert.dump() for cert in loaded.cert_registry), key=key,
                     mechanism=None if mechanism is None else mechanism.dump(),
                     rsa_key=parsed if isinstance(parsed, rsa.RSAPrivateKey) else None)


@lru_cache(maxsize=8)
def _roots_from(paths: tuple[str, ...]) -> tuple[bytes, ...]:
    return tuple(cert.dump() for cert in load_certs_from_pemder(list(paths)))


def trust_roots() -> tuple:
    """The roots a document's signature must chain to (asn1crypto certificates): those of
    ``DANCU_DOCUMENTS_TRUST_ROOTS`` and, unless production, the development CA's root. Read once
    per process as bytes, parsed anew at every call (asn1crypto objects are not shared by
    threads: see ``signer``)."""
    paths: list[str] = []
    configured = str(getattr(settings, "DANCU_DOCUMENTS_TRUST_ROOTS", "") or "")
    if configured:
        paths.append(configured)
    if not getattr(settings, "PRODUCTION", False):
        paths.append(str(ensure_dev_ca() / ROOT_CERT))
    return tuple(x509_asn1.Certificate.load(der) for der in _roots_from(tuple(paths)))
