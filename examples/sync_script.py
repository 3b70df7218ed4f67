"""A plain script using the sync facade: no async, no event loop in sight.

It uploads a report, reads its metadata, makes a signed link, stores a resized copy of
an image and downloads it, then deletes what it stored. Run it against the emulator
(``filestack-async emulator --port 8700``)::

    FILESTACK_BASE_URL=http://127.0.0.1:8700 python examples/sync_script.py photo.png

With ``FILESTACK_APP_SECRET`` set, every call is signed with a ten-minute policy that
allows only the calls the script makes; the signed link may only read the report.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from filestack_async.sync import Client, Security


def main(image: Path, apikey: str, secret: str | None) -> int:
    calls = ["pick", "read", "stat", "convert", "store", "remove"]  # what this script does
    security = Security.create(secret, expires_in=600, call=calls) if secret else None
    with Client(apikey, security=security) as client:
        report = client.upload(
            content=b"%PDF-1.7 quarterly report",
            store_params={"filename": "report.pdf", "mimetype": "application/pdf"},
        )
        meta = report.metadata(["filename", "size", "mimetype"])
        print(f"stored {meta['filename']} ({meta['size']} bytes, {meta['mimetype']})")
        # a link that may only read this report, for five minutes
        print(f"read-only link: {report.signed_url(expires_in=300)}" if security else report.url)

        photo = client.upload(filepath=image)
        thumb = photo.resize(width=64).store(path="/thumbs/")  # a new file
        target = image.with_name(f"thumb-{image.name}")
        size = thumb.download(target)
        print(f"thumbnail {thumb.handle}: {size} bytes in {target}")

        if security:  # delete needs a policy and a signature
            for link in (report, photo, thumb):
                link.delete()
            print("deleted the three files")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: sync_script.py IMAGE")
    sys.exit(
        main(
            Path(sys.argv[1]),
            os.environ.get("FILESTACK_API_KEY", "MY_KEY"),
            os.environ.get("FILESTACK_APP_SECRET"),
        )
    )
