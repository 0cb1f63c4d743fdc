"""REST endpoints of the grids app, mounted under /api/v1/."""

urlpatterns: list = []  # type: ignore[type-arg]
