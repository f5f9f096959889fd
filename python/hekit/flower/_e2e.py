"""End-to-end boxes for the Shamir dealings relayed by the Flower server.

A dealing is secret and goes from one client to another through the
server, so each is sealed to its recipient: the construction of hekit-mpc's
``mpc/src/e2e.rs`` without its certificates — X25519 between a fresh key
pair per client and session, ``HKDF-SHA256(shared secret, salt = session
seed, info = label ‖ from ‖ to)``, ChaCha20-Poly1305 with a random nonce and
``session seed ‖ from ‖ to`` as associated data.

TEMPORARY: hekit's Python package does not bind an end-to-end box yet
(``mpc::e2e`` lives in the networked runtime). Until it does, this module
composes the primitives of ``cryptography`` (a dependency of ``flwr``, used
the same way by Flower's SecAgg+) — no primitive is implemented here.
"""

from __future__ import annotations

import os
import struct

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_LABEL = b"hekit.flower dealing v1"
_NONCE = 12


class E2eKey:
    """A client's X25519 key pair for one session (the secret never leaves it)."""

    def __init__(self) -> None:
        self._secret = X25519PrivateKey.generate()

    def to_bytes(self) -> bytes:
        """The 32-byte private key (secret: it stays on its node)."""
        return self._secret.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> "E2eKey":
        """A key written by :meth:`to_bytes`."""
        key = cls.__new__(cls)
        key._secret = X25519PrivateKey.from_private_bytes(bytes(data))
        return key

    def public(self) -> bytes:
        """The 32-byte public key, announced through the server."""
        return self._secret.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def _aead(self, peer: bytes, session: bytes, sender: int, recipient: int) -> ChaCha20Poly1305:
        shared = self._secret.exchange(X25519PublicKey.from_public_bytes(peer))
        key = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=session,
            info=_LABEL + struct.pack("<II", sender, recipient),
        ).derive(shared)
        return ChaCha20Poly1305(key)

    def seal(self, peer: bytes, session: bytes, sender: int, recipient: int, message: bytes) -> bytes:
        """``message`` from ``sender`` (this key) to ``recipient`` (``peer``)."""
        nonce = os.urandom(_NONCE)
        ad = session + struct.pack("<II", sender, recipient)
        return nonce + self._aead(peer, session, sender, recipient).encrypt(nonce, message, ad)

    def open(self, peer: bytes, session: bytes, sender: int, recipient: int, box: bytes) -> bytes:
        """Opens a box from ``sender`` (``peer``) to ``recipient`` (this key);
        raises ``cryptography.exceptions.InvalidTag`` if it was not sealed so."""
        ad = session + struct.pack("<II", sender, recipient)
        return self._aead(peer, session, sender, recipient).decrypt(box[:_NONCE], box[_NONCE:], ad)
