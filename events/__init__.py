"""The contracts that travel between services and from other municipal systems.

Everything on a public stream is one of the messages in :mod:`events.registry`, written and
read by :mod:`events.codec` in the plain-field entry format of ``contracts.md``.
"""

from events.codec import DecodeError, Envelope, decode, encode
from events.registry import MESSAGES
from events.types import Message

__all__ = ["MESSAGES", "DecodeError", "Envelope", "Message", "decode", "encode"]
