"""The docker tier's shared fixtures (tests/docker_support.py), re-exported for these tests."""

from tests.docker_support import docker_engine, server_images, standin_bases

__all__ = ["docker_engine", "server_images", "standin_bases"]
