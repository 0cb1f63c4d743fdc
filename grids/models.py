"""The network and the organisation.

Network: substations feed feeders; a feeder is a set of *devices* (breakers, reclosers,
sectionalisers, load-break switches, fuses, distribution transformers) joined at electrical
*nodes*. Every device connects two nodes (``node_a`` on the normal upstream side, ``node_b``
downstream). Plain conductor between devices is not modelled: all the buses a run of cable
joins are one node. Switching devices have a normal state (``normally_open``) and a current
state (``is_open``). Service points (customer accounts) hang below a distribution transformer.

The *current* supply tree — which device feeds which, given the present switch states — is
materialised on each device (``energized``, ``fed_from``, ``source``, ``tree_pre`` /
``tree_post``, ``on_closed_loop``) by ``grids.services.topology_rebuild``, so that
"everything downstream of a device" is a single indexed range query for a device on a radial
section; a device on a loop of closed devices is answered by a search of its component. Only
that service writes those fields.

Organisation: districts and sub-districts (the address hierarchy), grids (repair zones, each
with one repair station), crews and their members.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from dispatch_center.core.models import TimeStampedModel


class AreaClass(models.TextChoices):
    URBAN = "urban", _("城市")
    RURAL = "rural", _("农村")
    REMOTE = "remote", _("偏远")


class District(TimeStampedModel):
    """An administrative district (区) of the city."""

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=32, unique=True)
    name_en = models.CharField(_("English name"), max_length=64, blank=True)
    center_lat = models.FloatField(_("centre latitude"), null=True, blank=True)
    center_lng = models.FloatField(_("centre longitude"), null=True, blank=True)
    # Simplified outline, GeoJSON geometry in WGS-84.
    boundary = models.JSONField(_("boundary"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self) -> str:
        return self.name


class SubDistrict(TimeStampedModel):
    """A sub-district (街道) inside a district."""

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=32)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="sub_districts")
    center_lat = models.FloatField(_("centre latitude"), null=True, blank=True)
    center_lng = models.FloatField(_("centre longitude"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("sub-district")
        verbose_name_plural = _("sub-districts")
        constraints = [
            models.UniqueConstraint(
                fields=["district", "name"], name="grids_subdistrict_unique_name_in_district"
            )
        ]

    def __str__(self) -> str:
        return f"{self.district.name}{self.name}"


class Grid(TimeStampedModel):
    """A repair zone (供电网格). Each grid has one repair station."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="grids")
    sub_district = models.ForeignKey(
        SubDistrict, on_delete=models.SET_NULL, null=True, blank=True, related_name="grids"
    )
    area_class = models.CharField(
        _("area class"), max_length=8, choices=AreaClass.choices, default=AreaClass.URBAN
    )
    center_lat = models.FloatField(_("centre latitude"), null=True, blank=True)
    center_lng = models.FloatField(_("centre longitude"), null=True, blank=True)
    # GeoJSON geometry (Polygon or MultiPolygon) in WGS-84.
    boundary = models.JSONField(_("boundary"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("grid")
        verbose_name_plural = _("grids")

    def __str__(self) -> str:
        return self.name


class RepairStation(TimeStampedModel):
    """The repair station (供电服务站) of a grid, where its crews are based."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    grid = models.OneToOneField(Grid, on_delete=models.PROTECT, related_name="station")
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    lat = models.FloatField(_("latitude"))
    lng = models.FloatField(_("longitude"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("repair station")
        verbose_name_plural = _("repair stations")

    def __str__(self) -> str:
        return self.name


class Skill(models.Model):
    """A qualification a job may need (MV line work, cable jointing, LV, live work...)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)

    class Meta:
        ordering = ["code"]
        verbose_name = _("skill")
        verbose_name_plural = _("skills")

    def __str__(self) -> str:
        return self.name


class Crew(TimeStampedModel):
    """A repair crew (抢修班组) based at a station."""

    class Status(models.TextChoices):
        AVAILABLE = "available", _("空闲")
        ASSIGNED = "assigned", _("已派单")
        EN_ROUTE = "en_route", _("在途")
        ON_SITE = "on_site", _("在现场")
        OFF_DUTY = "off_duty", _("下班")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    station = models.ForeignKey(RepairStation, on_delete=models.PROTECT, related_name="crews")
    skills = models.ManyToManyField(Skill, blank=True, related_name="crews")
    on_duty = models.BooleanField(_("on duty"), default=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.AVAILABLE
    )
    capacity = models.PositiveSmallIntegerField(_("capacity (open orders)"), default=3)
    vehicle_plate = models.CharField(_("vehicle plate"), max_length=16, blank=True)
    last_lat = models.FloatField(_("last latitude"), null=True, blank=True)
    last_lng = models.FloatField(_("last longitude"), null=True, blank=True)
    last_located_at = models.DateTimeField(_("last located at"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("crew")
        verbose_name_plural = _("crews")
        constraints = [
            models.CheckConstraint(
                condition=Q(last_lat__isnull=True, last_lng__isnull=True)
                | Q(last_lat__isnull=False, last_lng__isnull=False),
                name="grids_crew_position_complete",
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=1), name="grids_crew_capacity_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CrewMember(TimeStampedModel):
    """A person in a crew; ``user`` is the login the crews' app uses."""

    crew = models.ForeignKey(Crew, on_delete=models.CASCADE, related_name="members")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="crew_member",
    )
    name = models.CharField(_("name"), max_length=32)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    is_leader = models.BooleanField(_("crew leader"), default=False)

    class Meta:
        ordering = ["crew", "-is_leader", "name"]
        verbose_name = _("crew member")
        verbose_name_plural = _("crew members")

    def __str__(self) -> str:
        return self.name


class Substation(TimeStampedModel):
    """A primary substation (变电站) feeding 10 kV feeders."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=64)
    district = models.ForeignKey(
        District, on_delete=models.SET_NULL, null=True, blank=True, related_name="substations"
    )
    voltage_kv = models.FloatField(_("voltage (kV)"), default=110)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("substation")
        verbose_name_plural = _("substations")

    def __str__(self) -> str:
        return self.name


class Feeder(TimeStampedModel):
    """A medium-voltage feeder (馈线), headed by a breaker at its substation."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=64)
    substation = models.ForeignKey(Substation, on_delete=models.PROTECT, related_name="feeders")
    voltage_kv = models.FloatField(_("voltage (kV)"), default=10)

    class Meta:
        ordering = ["code"]
        verbose_name = _("feeder")
        verbose_name_plural = _("feeders")

    def __str__(self) -> str:
        return self.name


class Node(models.Model):
    """An electrical node: the buses joined by conductor between devices.

    ``is_source`` marks a substation busbar, which is always energised.
    """

    code = models.CharField(_("code"), max_length=96, unique=True)
    is_source = models.BooleanField(_("source busbar"), default=False)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)

    class Meta:
        verbose_name = _("node")
        verbose_name_plural = _("nodes")

    def __str__(self) -> str:
        return self.code


class Device(TimeStampedModel):
    """A device of the MV network: a switching device or a distribution transformer."""

    class Kind(models.TextChoices):
        BREAKER = "breaker", _("断路器")
        RECLOSER = "recloser", _("重合器")
        SECTIONALISER = "sectionaliser", _("分段器")
        LOAD_BREAK_SWITCH = "load_break_switch", _("负荷开关")
        FUSE = "fuse", _("熔断器")
        TRANSFORMER = "transformer", _("配电变压器")

    SWITCHING_KINDS = frozenset(
        {Kind.BREAKER, Kind.RECLOSER, Kind.SECTIONALISER, Kind.LOAD_BREAK_SWITCH, Kind.FUSE}
    )

    code = models.CharField(_("code"), max_length=96, unique=True)
    name = models.CharField(_("name"), max_length=96, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, db_index=True)
    feeder = models.ForeignKey(Feeder, on_delete=models.PROTECT, related_name="devices")
    node_a = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="+")
    node_b = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="+")
    normally_open = models.BooleanField(_("normally open"), default=False)
    is_open = models.BooleanField(_("open"), default=False)
    rating_kva = models.FloatField(_("rating (kVA)"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)

    # The current supply tree, maintained only by grids.services.topology_rebuild.
    energized = models.BooleanField(_("energised"), default=False)
    fed_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="feeds",
        verbose_name=_("fed from"),
    )
    source = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("supplying feeder head"),
    )
    tree_pre = models.IntegerField(null=True, blank=True)
    tree_post = models.IntegerField(null=True, blank=True)
    # On a loop of closed devices (a meshed section, e.g. during a make-before-break
    # transfer): opening it cuts off less than its interval, so the downstream selectors
    # search its component instead. NULL until the tree is rebuilt after the field was added.
    on_closed_loop = models.BooleanField(_("on a closed loop"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        indexes = [
            models.Index(fields=["source", "tree_pre"], name="grids_device_tree_idx"),
            models.Index(fields=["node_a"], name="grids_device_node_a_idx"),
            models.Index(fields=["node_b"], name="grids_device_node_b_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(tree_pre__isnull=True, tree_post__isnull=True)
                | Q(tree_pre__isnull=False, tree_post__isnull=False, tree_post__gte=F("tree_pre")),
                name="grids_device_tree_interval_valid",
            ),
            models.CheckConstraint(
                condition=~Q(kind="transformer") | Q(is_open=False, normally_open=False),
                name="grids_device_transformer_not_switchable",
            ),
            models.CheckConstraint(
                condition=~Q(node_a=F("node_b")), name="grids_device_distinct_nodes"
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.code

    @property
    def is_switching(self) -> bool:
        return self.kind in self.SWITCHING_KINDS


class ServicePoint(TimeStampedModel):
    """A customer's point of supply (用电户): account, address, coordinates, transformer."""

    account_no = models.CharField(_("account number"), max_length=20, unique=True)
    customer_name = models.CharField(_("customer name"), max_length=64)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    address = models.CharField(_("address"), max_length=200)
    # NFKC, no spaces, without the province / city / district prefix: see grids.address.
    address_norm = models.CharField(_("normalised address"), max_length=200, db_index=True)
    lat = models.FloatField(_("latitude"))
    lng = models.FloatField(_("longitude"))
    transformer = models.ForeignKey(
        Device,
        on_delete=models.PROTECT,
        related_name="service_points",
        limit_choices_to={"kind": Device.Kind.TRANSFORMER},
    )
    grid = models.ForeignKey(
        Grid, on_delete=models.PROTECT, null=True, blank=True, related_name="service_points"
    )
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, null=True, blank=True, related_name="service_points"
    )
    sub_district = models.ForeignKey(
        SubDistrict,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_points",
    )
    area_class = models.CharField(
        _("area class"), max_length=8, choices=AreaClass.choices, default=AreaClass.URBAN
    )
    is_important = models.BooleanField(_("important customer"), default=False)

    class Meta:
        ordering = ["account_no"]
        verbose_name = _("service point")
        verbose_name_plural = _("service points")
        indexes = [
            # The intake's nearest-premise look-up (grids.selectors.service_point_nearest).
            models.Index(fields=["lat", "lng"], name="grids_sp_lat_lng_idx"),
            # The hotline agent finds a caller by name (equality and prefix).
            models.Index(fields=["customer_name"], name="grids_sp_customer_name_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(lat__gte=-90, lat__lte=90, lng__gte=-180, lng__lte=180),
                name="grids_servicepoint_coordinates_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_no} {self.address}"


class Place(TimeStampedModel):
    """A gazetteer entry the public look-up finds when no customer matches: a sub-district
    (街道), a community (社区), a road or a named place, at one WGS-84 point.

    ``search_norm`` is the normalised name followed by the normalised address (see
    ``grids.address``); the trigram index on it serves ``LIKE '%fragment%'``. Imported rows are
    keyed by (name, address), so importing the same file again changes nothing.
    """

    class Kind(models.TextChoices):
        SUB_DISTRICT = "sub_district", _("街道")
        COMMUNITY = "community", _("社区")
        ROAD = "road", _("道路")
        PLACE = "place", _("地点")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, db_index=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    search_norm = models.CharField(_("search text"), max_length=320)
    district_name = models.CharField(_("district"), max_length=32, blank=True)
    district = models.ForeignKey(
        District, on_delete=models.SET_NULL, null=True, blank=True, related_name="places"
    )
    lat = models.FloatField(_("latitude"))
    lng = models.FloatField(_("longitude"))

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("place")
        verbose_name_plural = _("places")
        constraints = [
            models.UniqueConstraint(fields=["name", "address"], name="grids_place_name_address"),
            models.CheckConstraint(
                condition=Q(lat__gte=-90, lat__lte=90, lng__gte=-180, lng__lte=180),
                name="grids_place_coordinates_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name
