"""Reads of the network topology, given the current switch states."""

from django.db.models import QuerySet

from grids import topology
from grids.models import Device, ServicePoint


def device_downstream_device_ids(*, device: Device) -> list[int]:
    """Ids of the devices that lose supply if ``device`` opens (itself included).

    For an energised closed device this is one indexed range query on the materialised tree;
    for an open or de-energised device it is what the device would supply if it were closed,
    computed by a search over its network component.
    """
    if device.energized and not device.is_open and device.tree_pre is not None:
        return list(
            Device.objects.filter(
                source_id=device.source_id,
                tree_pre__gte=device.tree_pre,
                tree_pre__lte=device.tree_post,
            ).values_list("pk", flat=True)
        )
    if not device.is_open:
        # Closed but de-energised: opening it cuts off nothing more.
        return []
    from grids.services.network import network_component_links

    links, sources = network_component_links(feeder_ids=[device.feeder_id])
    return sorted(topology.downstream(links, sources, device.pk))


def device_downstream_transformers(*, device: Device) -> QuerySet[Device]:
    """Distribution transformers downstream of ``device`` (see the ids selector)."""
    if device.energized and not device.is_open and device.tree_pre is not None:
        return Device.objects.filter(
            kind=Device.Kind.TRANSFORMER,
            source_id=device.source_id,
            tree_pre__gte=device.tree_pre,
            tree_pre__lte=device.tree_post,
        )
    ids = device_downstream_device_ids(device=device)
    return Device.objects.filter(kind=Device.Kind.TRANSFORMER, pk__in=ids)


def device_downstream_service_points(*, device: Device) -> QuerySet[ServicePoint]:
    """Service points supplied through ``device`` under the current switch states."""
    if device.energized and not device.is_open and device.tree_pre is not None:
        # Unordered: callers treat it as a set, and sorting 10,000 rows costs a third.
        return ServicePoint.objects.filter(
            transformer__source_id=device.source_id,
            transformer__tree_pre__gte=device.tree_pre,
            transformer__tree_pre__lte=device.tree_post,
        ).order_by()
    ids = list(device_downstream_transformers(device=device).values_list("pk", flat=True))
    return ServicePoint.objects.filter(transformer_id__in=ids).order_by()


def device_upstream_path(*, device: Device) -> list[Device]:
    """Devices from ``device`` up to the feeder head supplying it now, bottom first.

    Empty when the device is de-energised.
    """
    if not device.energized or device.tree_pre is None:
        return []
    ancestors = Device.objects.filter(
        source_id=device.source_id, tree_pre__lte=device.tree_pre, tree_post__gte=device.tree_pre
    ).order_by("-tree_pre")
    return list(ancestors)


def service_point_upstream_path(*, service_point: ServicePoint) -> list[Device]:
    """The transformer of ``service_point`` and every device above it to the feeder head.

    Reads the transformer afresh: its place in the tree changes with switching.
    """
    return device_upstream_path(device=Device.objects.get(pk=service_point.transformer_id))
