"""argon2id password hashing (argon2-cffi's RFC 9106 low-memory profile by default)."""
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 8
_state: dict = {}


def configure_hasher(profile_name: str = "RFC_9106_LOW_MEMORY") -> None:
    """Tests pick the CHEAPEST profile; production keeps the strong default."""
    hasher = PasswordHasher.from_parameters(getattr(profiles, profile_name))
    _state["hasher"] = hasher
    # Verified against when the account does not exist, so both paths cost the same time.
    _state["dummy"] = hasher.hash("trellis-timing-equaliser")


def _hasher() -> PasswordHasher:
    if "hasher" not in _state:
        configure_hasher()
    return _state["hasher"]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher = _hasher()
    try:
        return hasher.verify(password_hash or _state["dummy"], password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)
