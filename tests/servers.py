"""For tests that start servers of their own: free ports, moto's S3 server."""

from __future__ import annotations

import socket
import uuid

import boto3
import pytest

from tests.workers import worker_count, worker_number

# Any credentials do for moto; boto3 insists on having some.
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "inkwell-test",
    "AWS_SECRET_ACCESS_KEY": "inkwell-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_ports(count: int, ports: range) -> list[int]:
    """`count` ports of `ports` that nothing listens on.

    In a parallel run each test process starts its search at its own share
    of the range, so two of them do not pick the same port at once.
    """
    found = []
    start = len(ports) * worker_number() // max(worker_count(), 1)
    for port in [*ports[start:], *ports[:start]]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    pytest.fail(f"no {count} free ports in {ports}")


def s3_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=S3_CREDENTIALS["AWS_DEFAULT_REGION"],
        aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def new_bucket(endpoint: str) -> str:
    name = f"inkwell-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


def media_storage_url(endpoint: str, bucket: str) -> str:
    """MEDIA_STORAGE_URL for `bucket` on the test server, under a prefix."""
    return f"s3://{bucket}/site-media?endpoint_url={endpoint}&region_name=us-east-1"
