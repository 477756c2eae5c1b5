from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('webhooks', '0004_webhookevent_next_attempt_at'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='webhookevent',
            index=models.Index(fields=['received_at'], name='webhookevent_received_idx'),
        ),
    ]
