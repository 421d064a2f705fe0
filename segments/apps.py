from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "segments"
    verbose_name = "Audiences"

    def ready(self) -> None:
        # profiles cannot import segments (apps depend one way), so it announces processed events and
        # merges through signals; streaming qualification subscribes here.
        from profiles.extensions import register_profile_section
        from profiles.signals import events_processed, profiles_merged
        from segments import destinations, receivers

        events_processed.connect(receivers.on_events_processed, dispatch_uid="segments.streaming")
        profiles_merged.connect(receivers.on_profiles_merged, dispatch_uid="segments.merged")
        register_profile_section("audiences", receivers.audiences_section)
        destinations.connect()
