"""Import a distribution network from files: OpenDSS-derived CSV tables or SimBench CSV.

    python manage.py import_network opendss-csv ../shared/data/network/ieee8500/derived_csv \\
        --district 福田区
    python manage.py import_network simbench \\
        ../shared/data/network/simbench_1-MVLV-urban-all-0-sw --district Nanshan --prefix sb

All files are read and checked before anything is written, and the write is one transaction:
a bad file imports nothing, and the error names the file and line. See ``grids.importers``
for how each format maps onto feeders, devices and service points.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import DomainError
from grids.importers import (
    NetworkFileError,
    PlanError,
    default_prefix,
    plan_network,
    read_opendss_csv,
    read_simbench,
)
from grids.models import Device
from grids.services import network_import

FORMATS = ("opendss-csv", "simbench")


class Command(BaseCommand):
    help = "Import a distribution network (OpenDSS-derived CSV tables or SimBench CSV)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("format", choices=FORMATS, help="opendss-csv or simbench")
        parser.add_argument("directory", help="the folder holding the CSV files")
        parser.add_argument(
            "--district",
            help="place the network inside this Shenzhen district (福田区, 福田 or Futian)",
        )
        parser.add_argument(
            "--prefix",
            help="code prefix of everything imported (default: from the directory name)",
        )
        parser.add_argument("--substation-name", help="name of the substation (default: prefix)")
        parser.add_argument(
            "--source-bus",
            help="opendss-csv: the bus where supply enters (default: highest-voltage bus)",
        )
        parser.add_argument(
            "--no-lateral-fuses",
            action="store_true",
            help="opendss-csv: do not put a fuse at the head of each single-phase lateral",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(options["directory"])
        if not directory.is_dir():
            raise CommandError(f"{directory}: not a directory")
        fmt = options["format"]
        if fmt != "opendss-csv" and (options["source_bus"] or options["no_lateral_fuses"]):
            raise CommandError("--source-bus and --no-lateral-fuses apply to opendss-csv only")
        prefix = options["prefix"] or default_prefix(directory)
        try:
            if fmt == "opendss-csv":
                raw = read_opendss_csv(
                    directory,
                    source_bus=options["source_bus"],
                    lateral_fuses=not options["no_lateral_fuses"],
                )
            else:
                raw = read_simbench(directory)
            plan = plan_network(raw)
            result = network_import(
                plan=plan,
                prefix=prefix,
                substation_name=options["substation_name"],
                district_name=options["district"],
            )
        except NetworkFileError as exc:
            raise CommandError(str(exc)) from exc
        except PlanError as exc:
            raise CommandError(f"{directory}: {exc}") from exc
        except DomainError as exc:
            raise CommandError(exc.message) from exc

        kinds = dict(Device.Kind.choices)
        lines = [
            _("已导入 %(name)s（前缀 %(prefix)s），用时 %(s).1f 秒")
            % {"name": result.substation.name, "prefix": prefix, "s": result.seconds},
            _("  馈线 feeders: %(n)d") % {"n": result.feeders},
            _("  节点 nodes: %(n)d") % {"n": result.nodes},
            _("  设备 devices: %(n)d") % {"n": sum(result.devices_by_kind.values())},
        ]
        for kind, count in sorted(result.devices_by_kind.items()):
            lines.append(f"    {kinds.get(kind, kind)} {kind}: {count}")
        lines += [
            _("  常开开关 normally-open switches: %(n)d") % {"n": result.normally_open},
            _("  用电户 service points: %(n)d") % {"n": result.service_points},
            _("  带电配变 energised transformers: %(e)d / %(n)d")
            % {"e": result.energised_transformers, "n": result.transformers},
            _("  说明 notes:"),
        ]
        lines += [f"    - {note}" for note in result.notes]
        self.stdout.write("\n".join(lines) + "\n")
