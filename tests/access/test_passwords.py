import asyncio
import os
import threading

import anyio
import pytest

from app.access.passwords import PasswordHasher, password_problem


@pytest.mark.parametrize(
    ("password", "acceptable"),
    [
        ("1234567", False),
        ("12345678", True),
        ("a" * 72, True),
        ("a" * 73, False),
        ("é" * 36, True),
        ("é" * 37, False),
    ],
)
def test_passwords_are_bounded_in_utf8_bytes(password: str, acceptable: bool) -> None:
    assert (password_problem(password) is None) is acceptable


async def test_hash_and_verify() -> None:
    hasher = PasswordHasher(rounds=4, workers=2)

    hashed = await hasher.hash("SecurePassword123")

    assert hashed.startswith("$2b$04$")
    assert await hasher.verify("SecurePassword123", hashed)
    assert not await hasher.verify("securepassword123", hashed)


async def test_an_unknown_account_is_checked_against_a_dummy_and_fails() -> None:
    hasher = PasswordHasher(rounds=4, workers=2)

    assert not await hasher.verify("SecurePassword123", None)


async def test_a_corrupt_stored_hash_matches_nothing() -> None:
    hasher = PasswordHasher(rounds=4, workers=2)

    assert not await hasher.verify("SecurePassword123", "not-a-bcrypt-hash")


async def test_hashing_leaves_the_event_loop_free() -> None:
    hasher = PasswordHasher(rounds=12, workers=1)
    ticks = 0
    hashing = asyncio.create_task(hasher.hash("SecurePassword123"))

    while not hashing.done():
        ticks += 1
        await asyncio.sleep(0)

    await hashing
    # Had bcrypt run on the loop, the task would have finished within its first step.
    assert ticks > 1


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="no thread priorities on this system")
async def test_hashing_threads_run_at_a_lower_priority_than_the_loop() -> None:
    hasher = PasswordHasher(rounds=4, workers=1, niceness=7)
    observed: list[int] = []

    def nice_of_this_thread() -> None:
        observed.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    await hasher.hash("SecurePassword123")
    await hasher._run(nice_of_this_thread)

    assert observed == [7]


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="no thread priorities on this system")
async def test_other_work_in_threads_keeps_the_loops_priority() -> None:
    hasher = PasswordHasher(rounds=4, workers=2, niceness=7)
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    await asyncio.gather(*(hasher.hash("SecurePassword123") for _ in range(4)))
    observed = await asyncio.gather(
        *(anyio.to_thread.run_sync(_nice_of_this_thread) for _ in range(8))
    )
    hasher.close()

    assert set(observed) == {base}


def _nice_of_this_thread() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
