"""End-to-end boxes for the Shamir dealings relayed by the Flower server.

A dealing is secret and goes from one client to another through the
server, so each is sealed to its recipient with hekit's box
(``hekit.threshold.E2eKey``, i.e. ``threshold::e2e`` in Rust — the
construction ``hekit-mpc`` uses): X25519 between a fresh key pair per client
and session, ``HKDF-SHA256(shared secret, salt = session seed, info =
domain/purpose/from/to)``, ChaCha20-Poly1305 with a random nonce. Nothing
cryptographic happens in Python.
"""

from __future__ import annotations

from hekit.threshold import E2eKey as _NativeKey

#: Key-derivation domain of hekit.flower's boxes.
DOMAIN = "hekit-flower/e2e/v1"
#: The purpose of the boxes (the only one: Shamir dealings).
PURPOSE = "dealing"


class E2eKey:
    """A client's X25519 key pair for one session (the secret never leaves
    its node)."""

    def __init__(self, party: int, native: _NativeKey | None = None) -> None:
        self._key = native if native is not None else _NativeKey(party, DOMAIN)

    def to_bytes(self) -> bytes:
        """The 32-byte secret key (secret: it stays on its node)."""
        return bytes(self._key.secret_bytes())

    @classmethod
    def from_bytes(cls, party: int, data: bytes) -> "E2eKey":
        """The key pair of party ``party`` written by :meth:`to_bytes`."""
        return cls(party, _NativeKey.from_secret_bytes(party, DOMAIN, bytes(data)))

    def public(self) -> bytes:
        """The 32-byte public key, announced through the server."""
        return bytes(self._key.public_bytes())

    def seal(self, peer: bytes, session: bytes, sender: int, recipient: int, message: bytes) -> bytes:
        """``message`` from ``sender`` (this key) to ``recipient`` (``peer``)."""
        if sender != self._key.id:
            raise ValueError(f"sealing as party {sender} with the key of party {self._key.id}")
        return bytes(self._key.seal(recipient, peer, session, PURPOSE, message))

    def open(self, peer: bytes, session: bytes, sender: int, recipient: int, box: bytes) -> bytes:
        """Opens a box from ``sender`` (``peer``) to ``recipient`` (this key);
        raises ``hekit.threshold.ThresholdError`` if it was not sealed so."""
        if recipient != self._key.id:
            raise ValueError(f"opening a box for party {recipient} with the key of party {self._key.id}")
        return bytes(self._key.open(sender, peer, session, PURPOSE, box))
