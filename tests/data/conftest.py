"""Fixtures for data versioning: git projects, and S3-compatible servers on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_keel


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return result.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A Keel project that is a git repository with one commit."""
    result = run_keel("init", "proj", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    root = tmp_path / "proj"
    git(root, "init", "-q")
    git(root, "config", "user.email", "test@keel.invalid")
    git(root, "config", "user.name", "Keel tests")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return root


def write_files(folder: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_moto(env_extra: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, **env_extra}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the S3-compatible test server (moto) did not start")


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible server (moto's server mode) on loopback, accepting any credentials."""
    proc, endpoint = _start_moto({})
    try:
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def strict_s3_endpoint() -> Iterator[str]:
    """An S3-compatible server that checks credentials (only keys it issued are valid)."""
    proc, endpoint = _start_moto({"INITIAL_NO_AUTH_ACTION_COUNT": "0"})
    try:
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)


S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def make_bucket(endpoint: str, name: str) -> None:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=name)


def add_s3_remote(root: Path, name: str, bucket: str, endpoint: str) -> None:
    keel_yaml = root / "keel.yaml"
    text = keel_yaml.read_text()
    text += f"\nremotes:\n  {name}:\n    url: s3://{bucket}/keel\n    default: true\n    options:\n      endpoint_url: {endpoint}\n"
    keel_yaml.write_text(text)
