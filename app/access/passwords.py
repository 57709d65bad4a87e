"""Password hashing with bcrypt, off the event loop.

bcrypt is deliberately slow (about 0.25 s at cost 12), so every hash and check runs in a thread
of the hasher's own pool, at most `workers` at once; requests beyond that wait their turn
without blocking the loop. The pool's threads run at a lower scheduling priority
(`PASSWORD_HASH_NICENESS`): on a machine whose cores are all busy hashing, the event loop
thread still gets the CPU the moment it has work, so every other request stays fast while
logins queue. The pool is the hasher's alone, so no lowered thread ever runs other work (the
framework's thread pool keeps its priority). Checking against a
missing account still costs one full bcrypt comparison, so response time does not tell which
emails have accounts.
"""

import asyncio
import contextlib
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar, TypeVarTuple

import bcrypt

_Result = TypeVar("_Result")
_Args = TypeVarTuple("_Args")

MIN_PASSWORD_BYTES = 8
MAX_PASSWORD_BYTES = 72  # bcrypt ignores (bcrypt 5 refuses) anything past 72 bytes


def password_problem(password: str) -> str | None:
    """Why `password` is not acceptable, or None when it is."""
    size = len(password.encode())
    if size < MIN_PASSWORD_BYTES:
        return f"must be at least {MIN_PASSWORD_BYTES} bytes long"
    if size > MAX_PASSWORD_BYTES:
        return f"must be at most {MAX_PASSWORD_BYTES} bytes long in UTF-8 (bcrypt's limit)"
    return None


class PasswordHasher:
    def __init__(self, rounds: int, workers: int, niceness: int = 0) -> None:
        self._rounds = rounds
        self._pool = ThreadPoolExecutor(
            max_workers=workers,
            thread_name_prefix="password-hash",
            initializer=_lower_this_threads_priority,
            initargs=(niceness,),
        )
        self._dummy_hash: bytes | None = None

    def close(self) -> None:
        """Let the pool's threads end once the work given to them is done."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def warm_up(self) -> None:
        """Prepare the dummy hash now, so the first unknown-email login costs what the rest do."""
        await self._dummy()

    async def hash(self, password: str) -> str:
        hashed = await self._run(bcrypt.hashpw, password.encode(), bcrypt.gensalt(self._rounds))
        return hashed.decode()

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """Check `password`; with no hash (unknown account) spend the same time and say no."""
        if password_hash is None:
            await self._run(bcrypt.checkpw, password.encode(), await self._dummy())
            return False
        try:
            return await self._run(bcrypt.checkpw, password.encode(), password_hash.encode())
        except ValueError:  # a malformed stored hash matches nothing
            return False

    async def _dummy(self) -> bytes:
        if self._dummy_hash is None:
            random_password = secrets.token_urlsafe(16).encode()
            self._dummy_hash = await self._run(
                bcrypt.hashpw, random_password, bcrypt.gensalt(self._rounds)
            )
        return self._dummy_hash

    async def _run(self, function: Callable[[*_Args], _Result], *args: *_Args) -> _Result:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, partial(function, *args))


def _lower_this_threads_priority(niceness: int) -> None:
    """Raise the calling thread's nice value, once as it starts (Linux schedules threads
    individually; lowering one's own priority needs no privilege). Elsewhere this does
    nothing."""
    if niceness <= 0:
        return
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
