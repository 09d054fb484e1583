"""Downloading and checking dataset files: MD5 verification, atomic writes."""
import hashlib
import os
import urllib.request

from ..errors import MinidiError
from ..files import atomic_write_bytes


def md5sum(path, chunk=1 << 20):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def explicit_dir(data_dir):
    """An explicit data folder (--data-dir) must exist: it is the only place searched."""
    if data_dir and not os.path.isdir(data_dir):
        raise MinidiError(f"data folder {data_dir} does not exist" if not os.path.exists(data_dir)
                          else f"data folder {data_dir} is a file, not a folder")
    return data_dir


def search_report(dirs, is_there):
    """'A (lacks x, y); B (does not exist)': what each searched folder lacks, for one-line errors."""
    parts = []
    for d in dirs:
        if not os.path.isdir(d):
            parts.append(f"{d} (does not exist)")
        else:
            missing = [name for name in is_there if not os.path.isfile(os.path.join(d, name))]
            parts.append(f"{d} (lacks {', '.join(missing)})" if missing else d)
    return "; ".join(parts)


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


def check_md5(path, md5, downloadable):
    """The file's MD5 is the distributed one. The remedy depends on where it lies: the cache folder is filled by
    downloading (delete the file and it comes again); an explicit --data-dir or $MINIDI_DATA is never written."""
    got = md5sum(path)
    if got != md5:
        remedy = ("delete it and run again (it is downloaded again)" if downloadable else
                  "replace it with a good copy of the original file (nothing is downloaded into this folder), or "
                  "delete it and run without --data-dir and $MINIDI_DATA to download it into the cache")
        raise MinidiError(f"{path} is corrupt or truncated (MD5 {got}, expected {md5}): {remedy}")
