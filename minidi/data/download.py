"""Downloading and checking dataset files: MD5 verification, atomic writes."""
import hashlib
import os
import tempfile
import urllib.request

from ..errors import MinidiError


def md5sum(path, chunk=1 << 20):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write_bytes(path, data):
    """Write bytes to `path` through a temporary file in the same folder and os.replace (never half a file)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def download(urls, path, md5):
    """Fetch the first URL that answers into `path`, atomically, and check its MD5; errors name the file."""
    errors = []
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                data = response.read()
        except Exception as exc:  # network down, 404, refused: try the next mirror
            errors.append(f"{url}: {exc}")
            continue
        got = hashlib.md5(data).hexdigest()
        if got != md5:
            errors.append(f"{url}: MD5 {got}, expected {md5}")
            continue
        atomic_write_bytes(path, data)
        return path
    raise MinidiError(f"could not download {os.path.basename(path)}: " + "; ".join(errors))


def check_md5(path, md5):
    got = md5sum(path)
    if got != md5:
        raise MinidiError(f"{path} is corrupt or truncated (MD5 {got}, expected {md5}); delete it and run again")
