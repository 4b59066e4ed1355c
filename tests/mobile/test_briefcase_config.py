"""mobile/pyproject.toml read by Briefcase's own parser, for each target, as `briefcase create` reads
it; and what the shop needs of it: the bundle id the push helper uses as APNs topic, one Toga version
everywhere, the permissions for network and notifications, the push entitlement."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from briefcase.commands.base import create_config
from briefcase.config import AppConfig, BriefcaseConfigError, DraftAppConfig, parse_config
from briefcase.console import Console
from shop.config import APPLE_MERCHANT_ID

PROJECT = Path(__file__).resolve().parents[2] / "mobile" / "pyproject.toml"
TARGETS = {"iOS": "Xcode", "android": "Gradle", "linux": "system", "macOS": "app"}
TOGA = "0.5.4"
ANDROID_PERMISSIONS = {
    "android.permission.INTERNET",
    "android.permission.ACCESS_NETWORK_STATE",
    "android.permission.POST_NOTIFICATIONS",
}


def app_for(platform: str, path: Path = PROJECT) -> AppConfig:
    """What `briefcase create <platform>` builds from the file (BaseCommand.parse_config's steps)."""
    _global, apps = parse_config(path, platform=platform, output_format=TARGETS[platform], console=Console())
    return create_config(klass=DraftAppConfig, config=apps["shop"], msg="Configuration for 'shop'")


def problems(app: AppConfig, platform: str) -> list[str]:
    """What would make the shop wrong on that platform, although Briefcase accepts the file."""
    found = []
    if app.bundle_identifier != "org.mercato.shop":
        found.append(f"bundle id {app.bundle_identifier}: the push service's APNs topic is org.mercato.shop")
    pins = {
        re.split(r"==", r)[0].lower(): r.split("==")[-1] for r in app.requires if r.lower().startswith("toga")
    }
    if not pins or set(pins.values()) != {TOGA}:
        found.append(f"Toga pinned to {pins}: one version ({TOGA}) for every backend")
    if platform == "android":
        declared = {name for name, on in (getattr(app, "permission", None) or {}).items() if on}
        found += [f"missing Android permission {p}" for p in sorted(ANDROID_PERMISSIONS - declared)]
        gradle = " ".join(getattr(app, "build_gradle_dependencies", None) or [])
        if "com.google.android.gms:play-services-wallet:" not in gradle:
            found.append("missing Gradle dependency play-services-wallet (Google Pay)")
        manifest = getattr(app, "android_manifest_application_extra_content", None) or ""
        if 'android:name="com.google.android.gms.wallet.api.enabled" android:value="true"' not in manifest:
            found.append("missing meta-data com.google.android.gms.wallet.api.enabled (Google Pay)")
    if platform == "iOS":
        if (getattr(app, "entitlement", None) or {}).get("aps-environment") not in (
            "development",
            "production",
        ):
            found.append("missing iOS entitlement aps-environment (push)")
        merchants = (getattr(app, "entitlement", None) or {}).get("com.apple.developer.in-app-payments", [])
        if APPLE_MERCHANT_ID not in merchants:
            found.append(f"missing iOS entitlement in-app-payments for {APPLE_MERCHANT_ID} (Apple Pay)")
        if "remote-notification" not in (getattr(app, "info", None) or {}).get("UIBackgroundModes", []):
            found.append("missing UIBackgroundModes remote-notification")
        unused = [k for k in (getattr(app, "info", None) or {}) if k.endswith("UsageDescription")]
        found += [f"iOS asks for {k}, which the app does not use" for k in unused]
    return found


@pytest.mark.parametrize("platform", list(TARGETS))
def test_the_project_parses_for_every_target_and_is_right(platform):
    app = app_for(platform)
    assert app.app_name == "shop" and app.module_name == "shop"
    assert app.sources == ["src/shop"] and app.test_sources == ["tests"]
    assert problems(app, platform) == []


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = PROJECT.read_text()
    assert old in text
    path = tmp_path / "pyproject.toml"
    path.write_text(text.replace(old, new))
    shutil.copytree(PROJECT.parent / "src", tmp_path / "src", dirs_exist_ok=True)
    return path


def test_a_bad_bundle_id_is_refused(tmp_path):
    path = _variant(tmp_path, 'bundle = "org.mercato"', 'bundle = "org.mercato!shop"')
    with pytest.raises(BriefcaseConfigError):
        app_for("iOS", path)


def test_a_different_bundle_id_is_caught(tmp_path):
    path = _variant(tmp_path, 'bundle = "org.mercato"', 'bundle = "com.example"')
    assert any("bundle id" in p for p in problems(app_for("iOS", path), "iOS"))


def test_a_missing_permission_is_caught(tmp_path):
    path = _variant(tmp_path, 'permission."android.permission.POST_NOTIFICATIONS" = true\n', "")
    assert problems(app_for("android", path), "android") == [
        "missing Android permission android.permission.POST_NOTIFICATIONS"
    ]


def test_a_missing_push_entitlement_is_caught(tmp_path):
    path = _variant(tmp_path, 'entitlement."aps-environment" = "development"\n', "")
    assert "missing iOS entitlement aps-environment (push)" in problems(app_for("iOS", path), "iOS")


def test_two_toga_versions_are_caught(tmp_path):
    path = _variant(tmp_path, 'requires = ["toga-android==0.5.4"]', 'requires = ["toga-android==0.5.7"]')
    assert any("Toga pinned" in p for p in problems(app_for("android", path), "android"))


def test_a_missing_wallet_setting_is_caught(tmp_path):
    apple = 'entitlement."com.apple.developer.in-app-payments" = ["merchant.org.mercato.shop"]\n'
    assert "missing iOS entitlement in-app-payments for merchant.org.mercato.shop (Apple Pay)" in problems(
        app_for("iOS", _variant(tmp_path, apple, "")), "iOS"
    )
    google = '"com.google.android.gms:play-services-wallet:19.4.0",\n'
    assert "missing Gradle dependency play-services-wallet (Google Pay)" in problems(
        app_for("android", _variant(tmp_path, google, "")), "android"
    )
