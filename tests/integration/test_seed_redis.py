"""The Redis seeder against a real server: commands files pipelined, RDB snapshots, failures."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from tests.conftest import EXAMPLE
from tests.support.seed import seed_once
from tests.support.servers import RedisServer, free_port, start_redis

_DATABASES = itertools.cycle(range(1, 16))  # other suites use database 0 of the shared server


@pytest.fixture
def redis_db(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A client of a database of the shared server that only this test fills; flushed after."""
    client = redis.Redis(host=redis_server.host, port=redis_server.port, db=next(_DATABASES))
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def number(client: redis.Redis) -> str:
    return str(client.connection_pool.connection_kwargs["db"])


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_commands_file_is_sent_pipelined_with_redis_cli_quoting(
    redis_server: RedisServer, redis_db: redis.Redis, tmp_path: Path
) -> None:
    lines = ["# a comment", "", 'HSET company:1 name "Harbor Works" motto "say \\"hi\\"\\x21"']
    lines += ["SET bare don't", "SET raw 'a\\nb'"]
    lines += [f"SET job:{i} 'title {i}'" for i in range(5000)]
    source = write(tmp_path / "cache.redis", "\n".join(lines) + "\n")

    status = seed_once("redis", redis_server.url, source, number(redis_db), name="cache")

    assert status.state == "done", status.message
    assert status.message.startswith("5003 commands")
    assert redis_db.mget("bare", "raw") == [b"don't", b"a\\nb"]
    assert (status.done, status.total, status.unit) == (source.stat().st_size,) * 2 + ("bytes",)
    assert redis_db.get("job:4999") == b"title 4999"
    assert redis_db.hgetall("company:1") == {b"name": b"Harbor Works", b"motto": b'say "hi"!'}
    assert redis_db.get(
        "homeport:seed:cache",
    ).startswith(b"redis/1 ")  # type: ignore[union-attr]


def test_raw_resp_file_is_accepted(
    redis_server: RedisServer, redis_db: redis.Redis, tmp_path: Path
) -> None:
    source = tmp_path / "cache.resp"
    source.write_bytes(
        b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$4\r\nb\r\nc\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"
    )

    status = seed_once("redis", redis_server.url, source, number(redis_db), name="resp")

    assert status.state == "done", status.message
    assert redis_db.get("a") == b"b\r\nc"
    assert redis_db.get("n") == b"1"


def test_same_file_twice_does_nothing_and_changed_file_replaces_keys(
    redis_server: RedisServer, redis_db: redis.Redis, tmp_path: Path
) -> None:
    source = write(tmp_path / "c.redis", "SET old 1\nRPUSH list a b\n")
    db = number(redis_db)
    assert seed_once("redis", redis_server.url, source, db, name="c").state == "done"

    again = seed_once("redis", redis_server.url, source, db, name="c")
    assert again.state == "skipped"
    assert redis_db.lrange("list", 0, -1) == [b"a", b"b"]  # not pushed twice

    write(source, "SET new 2\nRPUSH list c\n")
    changed = seed_once("redis", redis_server.url, source, db, name="c")
    assert changed.state == "done"
    assert redis_db.get("old") is None
    assert redis_db.lrange("list", 0, -1) == [b"c"]


def test_refused_command_fails_with_redis_message_and_no_marker(
    redis_server: RedisServer, redis_db: redis.Redis, tmp_path: Path
) -> None:
    source = write(tmp_path / "bad.redis", "SET a 1\nLPUSH a x\nNOSUCHCOMMAND\nSET b 2\n")

    status = seed_once("redis", redis_server.url, source, number(redis_db), name="bad")

    assert status.state == "failed"
    assert "line 2: WRONGTYPE Operation against a key holding the wrong kind of value" in (
        status.message
    )
    assert "line 3: ERR unknown command 'NOSUCHCOMMAND'" in status.message
    assert redis_db.get("homeport:seed:bad") is None


def test_unbalanced_quote_names_file_and_line(
    redis_server: RedisServer, redis_db: redis.Redis, tmp_path: Path
) -> None:
    source = write(tmp_path / "q.redis", 'SET a 1\nSET b "open\n')

    status = seed_once("redis", redis_server.url, source, number(redis_db), name="q")

    assert status.state == "failed"
    assert status.message == f"{source}:2: cannot read this command: unbalanced quotes"


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An RDB written by a real redis-server: keys in databases 0 and 3, one with a TTL."""
    server = start_redis()
    try:
        client = redis.Redis(host=server.host, port=server.port)
        client.set("plain", "value")
        client.set("expiring", "soon", ex=3600)
        client.hset("hash", mapping={"a": "1", "b": "2"})
        redis.Redis(host=server.host, port=server.port, db=3).zadd("scores", {"x": 1.5})
        client.save()
        out = tmp_path_factory.mktemp("rdb") / "cache.rdb"
        shutil.copy(server.workdir / "dump.rdb", out)
    finally:
        server.stop()
    return out


def test_rdb_snapshot_keys_are_copied_with_their_ttl(
    redis_server: RedisServer, redis_db: redis.Redis, snapshot: Path
) -> None:
    status = seed_once("redis", redis_server.url, snapshot, number(redis_db), name="rdb")

    assert status.state == "done", status.message
    assert status.message.startswith("4 keys")
    assert redis_db.get("plain") == b"value"
    assert redis_db.hgetall("hash") == {b"a": b"1", b"b": b"2"}
    assert redis_db.zscore("scores", "x") == 1.5
    assert 3000 < redis_db.ttl("expiring") <= 3600
    assert status.warnings == []
    assert seed_once("redis", redis_server.url, snapshot, number(redis_db), name="rdb").state == (
        "skipped"
    )


def test_corrupt_rdb_fails_with_redis_message(
    redis_server: RedisServer, redis_db: redis.Redis, snapshot: Path, tmp_path: Path
) -> None:
    corrupt = tmp_path / "corrupt.rdb"
    data = snapshot.read_bytes()
    corrupt.write_bytes(data[: len(data) // 2])

    status = seed_once("redis", redis_server.url, corrupt, number(redis_db), name="bad-rdb")

    assert status.state == "failed"
    assert status.message.startswith("Redis could not load the snapshot: Internal error in RDB")
    assert redis_db.get("homeport:seed:bad-rdb") is None


def test_rdb_into_an_aof_server_warns(snapshot: Path) -> None:
    server = start_redis()
    try:
        redis.Redis(host=server.host, port=server.port).config_set("appendonly", "yes")

        status = seed_once("redis", server.url, snapshot, "0", name="aof")

        assert status.state == "done", status.message
        assert len(status.warnings) == 1
        assert "Redis ignores dump.rdb at startup when AOF is on" in status.warnings[0]
    finally:
        server.stop()


def test_redis_that_never_answers_fails_with_timeout(tmp_path: Path) -> None:
    source = write(tmp_path / "c.redis", "SET a 1\n")

    status = seed_once(
        "redis", f"redis://127.0.0.1:{free_port()}", source, "0", name="gone", wait_timeout=0.3
    )

    assert status.state == "failed"
    assert "did not answer within 0.3s" in status.message


def test_example_cache_file_seeds(redis_server: RedisServer, redis_db: redis.Redis) -> None:
    source = EXAMPLE / "seeds" / "cache.redis"
    if not source.exists():
        pytest.skip("the example's seeds/cache.redis is not written yet")

    status = seed_once("redis", redis_server.url, source, number(redis_db), name="example")

    assert status.state == "done", status.message
    assert redis_db.get("jobboard:company:1:name") == b"Harbor Works"
