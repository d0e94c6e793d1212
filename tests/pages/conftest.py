import pytest

from tests.pages.helpers import World, build_world


@pytest.fixture
def world(user) -> World:
    return build_world(user)
