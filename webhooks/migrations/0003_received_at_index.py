from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('webhooks', '0002_event_changed_fields_and_actor'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='webhookevent',
            index=models.Index(fields=['received_at'], name='webhookevent_received_idx'),
        ),
    ]
