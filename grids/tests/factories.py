"""factory_boy factories for the grids app."""

import factory

from grids.models import (
    AreaClass,
    Crew,
    Device,
    District,
    Feeder,
    Grid,
    Node,
    RepairStation,
    ServicePoint,
    Substation,
)


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ("code",)

    code = "440304"
    name = "福田区"
    name_en = "Futian"
    center_lat = 22.541
    center_lng = 114.05


class GridFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grid

    code = factory.Sequence(lambda n: f"G{n:03d}")
    name = factory.Sequence(lambda n: f"网格{n}")
    district = factory.SubFactory(DistrictFactory)
    area_class = AreaClass.URBAN
    center_lat = 22.54
    center_lng = 114.05


class RepairStationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RepairStation

    code = factory.Sequence(lambda n: f"ST{n:03d}")
    name = factory.Sequence(lambda n: f"供电服务站{n}")
    grid = factory.SubFactory(GridFactory)
    lat = 22.54
    lng = 114.05


class CrewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Crew

    code = factory.Sequence(lambda n: f"CR{n:04d}")
    name = factory.Sequence(lambda n: f"抢修班{n}")
    station = factory.SubFactory(RepairStationFactory)
    last_lat = 22.54
    last_lng = 114.05


class SubstationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Substation

    code = factory.Sequence(lambda n: f"SS{n}")
    name = factory.Sequence(lambda n: f"变电站{n}")


class FeederFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Feeder

    code = factory.Sequence(lambda n: f"F{n}")
    name = factory.Sequence(lambda n: f"馈线{n}")
    substation = factory.SubFactory(SubstationFactory)


class NodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Node

    code = factory.Sequence(lambda n: f"N{n}")


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    code = factory.Sequence(lambda n: f"D{n}")
    kind = Device.Kind.LOAD_BREAK_SWITCH
    feeder = factory.SubFactory(FeederFactory)
    node_a = factory.SubFactory(NodeFactory)
    node_b = factory.SubFactory(NodeFactory)


class ServicePointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServicePoint

    account_no = factory.Sequence(lambda n: f"0300{n:08d}")
    customer_name = "张三"
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    address = factory.Sequence(lambda n: f"深圳市福田区华强北路{n}号")
    address_norm = factory.Sequence(lambda n: f"华强北路{n}号")
    lat = 22.54
    lng = 114.08
    transformer = factory.SubFactory(DeviceFactory, kind=Device.Kind.TRANSFORMER)
