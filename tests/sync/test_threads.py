"""One client (and several clients) used from many threads at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from filestack_async.sync import Client, Filelink

from ._fake import BASE, CONTENT, HANDLE, FakeFilestack
from .conftest import portal_threads


def test_one_client_from_many_threads(client: Client) -> None:
    def work(i: int) -> tuple[bytes, bytes, int]:
        link = client.upload(content=f"file {i}".encode())
        meta = client.filelink(HANDLE).metadata(["size"])
        return link.get_content(), client.filelink(HANDLE).get_content(), meta["size"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(40)))
    assert [r[0] for r in results] == [f"file {i}".encode() for i in range(40)]
    assert all(r[1] == CONTENT and r[2] == len(CONTENT) for r in results)
    assert len(portal_threads()) == 1


def test_every_call_runs_on_the_one_loop_thread(client: Client, fake: FakeFilestack) -> None:
    def work(i: int) -> bytes:
        return client.filelink(HANDLE).get_content()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(work, range(20)))
    client.upload(content=b"more")
    assert len(fake.threads) == 1
    assert fake.threads == {t.ident for t in portal_threads()}


def test_clients_opened_and_closed_concurrently(fake: FakeFilestack) -> None:
    def work(i: int) -> bytes:
        with Client(f"KEY{i}", base_url=BASE, transport=fake.transport()) as c:
            link: Filelink = c.upload(content=b"%d" % i)
            return link.get_content()

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(work, range(30)))
    assert results == [b"%d" % i for i in range(30)]
    assert not portal_threads()
