"""Labels created before colours were assigned distinctly repeat the palette after ten
labels (issue 13: "truck = cat in the chart"). In each version, a label whose colour an
earlier label (by index) already has gets the first default colour no label there uses."""

from django.db import migrations

from labels.colors import first_unused_color


def recolour(apps, schema_editor):
    Label = apps.get_model("labels", "Label")
    by_version: dict = {}
    for label in Label.objects.order_by("version_id", "index").only("id", "version_id", "color"):
        by_version.setdefault(label.version_id, []).append(label)
    for labels in by_version.values():
        used = {lb.color.lower() for lb in labels}
        seen = set()
        for label in labels:
            if label.color.lower() in seen:
                label.color = first_unused_color(used)
                used.add(label.color)
                Label.objects.filter(pk=label.pk).update(color=label.color)
            seen.add(label.color.lower())


class Migration(migrations.Migration):
    dependencies = [("labels", "0002_initial")]

    operations = [migrations.RunPython(recolour, migrations.RunPython.noop)]
