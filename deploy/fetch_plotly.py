"""Put plotly.js's cartesian bundle into static/ at exactly plotly.py's plotly.js version, checked against a pinned hash.

`python deploy/fetch_plotly.py [static]`: the Dockerfile runs it at build time, so the image's
bundle no longer depends on what the build machine happened to have fetched (issue 22). The
tarball comes from the npm registry and must match the sha512 pinned in PINS for the version
the installed plotly.py writes figures for. Anything else (no pin for that version, no
network, another hash, a bundle whose header names another version) fails the build with one
line: the image never serves an unchecked script. A newer plotly.py (requirements.txt allows
7.x) needs its pin added here, from `npm view plotly.js-cartesian-dist-min@VERSION dist.integrity`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

PACKAGE = "plotly.js-cartesian-dist-min"
TARBALL = "https://registry.npmjs.org/{package}/-/{package}-{version}.tgz"
MEMBER = "package/plotly-cartesian.min.js"
NAME = "plotly-cartesian.min.js"  # ui/page/charts.py CARTESIAN
PINS = {  # plotly.js version -> npm's dist.integrity of its cartesian bundle
    "4.1.1": "sha512-o8GrFeusncwBIxbBynRJpY4pkgVB6caM+JLpwrLYbbsO7dZ8FJ+SVN2Fr+L7kiG/Z6w4P5O0Jus/Qr5EefHVeg==",
}


def integrity(data: bytes) -> str:
    """npm's Subresource-Integrity form of the tarball's sha512."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def bundle(data: bytes, version: str) -> bytes:
    """The minified bundle out of a checked tarball; ValueError unless its hash is the pin and its header names `version`."""
    pin = PINS.get(version)
    if pin is None:
        raise ValueError(f"no pinned hash for plotly.js {version}: add it to deploy/fetch_plotly.py PINS")
    if integrity(data) != pin:
        raise ValueError(f"{PACKAGE}@{version}: the tarball's sha512 is not the pinned one")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        js = tar.extractfile(MEMBER).read()
    if f" v{version}\n".encode() not in js[:300]:
        raise ValueError(f"{MEMBER} does not name plotly.js v{version} in its header")
    return js


def main(argv: list[str]) -> int:
    import plotly.offline

    static = Path(argv[0] if argv else "static")
    version = plotly.offline.get_plotlyjs_version()
    url = TARBALL.format(package=PACKAGE, version=version)
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            js = bundle(response.read(), version)
    except (OSError, ValueError) as err:
        sys.stderr.write(f"error: plotly.js cartesian bundle {version}: {err}\n")
        return 1
    static.mkdir(parents=True, exist_ok=True)
    (static / NAME).write_bytes(js)
    print(f"{static / NAME}: plotly.js {version} cartesian bundle, sha512 as pinned")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
