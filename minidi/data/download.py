"""Downloading and checking dataset files: MD5 verification, atomic writes."""
import hashlib
import os
import secrets
import urllib.request

from ..errors import MinidiError


def md5sum(path, chunk=1 << 20):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


TMP_PREFIX = ".tmp-"     # temporary files of atomic writes; a folder holding only these counts as empty


def atomic_write_bytes(path, data):
    """Write bytes to `path` through a temporary file in the same folder and os.replace (never half a file).

    The temporary file is created with mode 0o666 filtered by the user's umask, as open() would create
    `path` itself (tempfile.mkstemp would make every result file 0600).
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{os.path.basename(path)}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


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


def check_md5(path, md5):
    got = md5sum(path)
    if got != md5:
        raise MinidiError(f"{path} is corrupt or truncated (MD5 {got}, expected {md5}); delete it and run again")
