"""Load rendered configuration files the way an OpenStack service does.

Usage: /usr/bin/python3 oslo_check.py GENERATOR.conf FILE...

GENERATOR.conf is an oslo-config-generator file: its [DEFAULT] namespace
lines name the oslo.config.opts entry points of the service. Its [osk]
section, which the oslo.config tools ignore, may set

    dynamic_groups = NAME:TEMPLATE,...  groups the service names at run time
                                        (cinder's backends): NAME takes the
                                        options of group TEMPLATE
    tempest_plugins = true              register the options of the
                                        installed Tempest plugins, as
                                        Tempest does

For every FILE the script registers the namespaces' options on a fresh
ConfigOpts, adds what the service registers only at run time, parses FILE
alone and reads every registered option, so that a value an option's type
rejects surfaces with the option's name. It prints one JSON object:

    {"missing": ["namespace: why", ...],
     "files": {FILE: {"runtime": {"group/option": "why", ...},
                      "unknown": ["group/option", ...],
                      "errors": ["group/option: error", ...]}}}

"runtime" lists options of FILE that the namespaces' sample data lacks but
the service registers when it runs, which oslo-config-validator therefore
flags: keystoneauth options of a section the service loads an auth plugin
from (auth_type, auth_section and the options of the plugin auth_type
names; the validator skips [keystone_authtoken] for this reason),
keystoneauth's session options of the groups the generator file's
[osk] session_groups names, options of dynamic groups and options of
Tempest plugins. "unknown" lists options of
the groups oslo-config-validator skips that are not options at all.
"""

import copy
import importlib.metadata
import json
import logging
import sys

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg
from oslo_config import generator
from oslo_config import validator

# Options whose presence in a group's sample shows that the service loads a
# keystoneauth plugin from the group.
AUTH_MARKERS = {"auth_type", "auth_section", "auth_url"}


def read_generator(path):
    conf = cfg.ConfigOpts()
    conf.register_opts([cfg.MultiStrOpt("namespace", default=[])])
    conf.register_opts([cfg.ListOpt("dynamic_groups", default=[]),
                        cfg.ListOpt("session_groups", default=[]),
                        cfg.BoolOpt("tempest_plugins", default=False)], group="osk")
    conf(args=[], default_config_files=[path], default_config_dirs=[], use_env=False)
    dynamic = {}
    for item in conf.osk.dynamic_groups:
        name, _, template = item.partition(":")
        dynamic.setdefault(name.strip(), []).append(template.strip())
    return list(conf.namespace), dynamic, conf.osk.tempest_plugins, list(conf.osk.session_groups)


def load_namespaces(namespaces):
    """Returns the sample options by group name, and the namespaces that
    are not installed or fail to load."""
    installed = {e.name for e in importlib.metadata.entry_points(group="oslo.config.opts")}
    missing, listing = [], []
    for ns in namespaces:
        if ns not in installed:
            missing.append(ns + ": no oslo.config.opts entry point (its package is not installed)")
            continue
        try:
            listing.extend(generator._list_opts([ns]))
        except Exception as e:  # the entry point's module fails to import
            missing.append("%s: cannot be loaded: %s: %s" % (ns, type(e).__name__, e))
    groups = {}
    for name, data in generator._get_groups(listing).items():
        opts = groups.setdefault(name, [])
        for _, ns_opts in data["namespaces"]:
            opts.extend(ns_opts)
    return groups, missing


def names(opt):
    """Every name an option may be written as in a file."""
    out = {opt.name, opt.dest}
    for d in opt.deprecated_opts:
        if d.name:
            out.add(d.name)
            out.add(d.name.replace("-", "_"))
    return out


class Registry(cfg.ConfigOpts):
    """A ConfigOpts that records what is registered on it, by group."""

    def __init__(self):
        # Set before ConfigOpts.__init__, which registers options; the
        # names cannot clash with options (none starts with "_osk").
        self._osk_known = {}  # group -> every name its options may be written as
        self._osk_opts = {}  # group -> attribute -> option
        super().__init__()

    def register_opt(self, opt, group=None, cli=False, **kwargs):
        key = getattr(group, "name", group) or "DEFAULT"
        if key == "DEFAULT" and opt.dest in ("config_file", "config_dir"):
            return False  # ConfigOpts has these itself (namespace oslo.config)
        if opt.required:
            # The samples list every auth plugin's options, some required,
            # for groups the service may never load a plugin from: an unset
            # option is not what this check is about.
            opt = copy.copy(opt)
            opt.required = False
        try:
            done = super().register_opt(opt, group=None if key == "DEFAULT" else key, cli=cli, **kwargs)
        except cfg.DuplicateOptError:
            return False  # two namespaces define it differently; the first wins
        self._osk_known.setdefault(key, set()).update(names(opt))
        self._osk_opts.setdefault(key, {}).setdefault(opt.dest, opt)
        return done

    def snapshot(self):
        return {g: set(n) for g, n in self._osk_known.items()}


def check_file(path, groups, dynamic, tempest_plugins, session_groups=()):
    sections = {}
    cfg.ConfigParser(path, sections).parse()
    conf = Registry()
    for group, opts in groups.items():
        for opt in opts:
            conf.register_opt(opt, group=group)
    sample = conf.snapshot()
    runtime, errors = {}, []

    def note(before, why):
        for section, options in sections.items():
            for option in options:
                if option not in before.get(section, ()) and option in conf._osk_known.get(section, ()):
                    runtime.setdefault(section + "/" + option, why)

    if tempest_plugins:
        from tempest.test_discover import plugins
        before = conf.snapshot()
        plugins.TempestTestPluginManager().register_plugin_opts(conf)
        note(before, "option of an installed Tempest plugin, registered at run time")

    for section in session_groups:
        before = conf.snapshot()
        for opt in ks_loading.get_session_conf_options():
            conf.register_opt(opt, group=section)
        note(before, "keystoneauth session option, registered at run time")

    for section, options in sections.items():
        if section == "DEFAULT":
            continue
        for template in dynamic.get(section, []):
            before = conf.snapshot()
            for opt in groups.get(template, []):
                conf.register_opt(opt, group=section)
            note(before, "dynamic group taking the options of [%s]" % template)
        if not sample.get(section, set()) & AUTH_MARKERS:
            continue
        plugin = options.get("auth_type", [None])[-1]
        extra = list(ks_loading.get_auth_common_conf_options())
        if plugin:
            try:
                extra += ks_loading.get_auth_plugin_conf_options(plugin)
            except Exception as e:
                errors.append("%s/auth_type: no auth plugin %r: %s" % (section, plugin, e))
        before = conf.snapshot()
        for opt in extra:
            conf.register_opt(opt, group=section)
        note(before, "keystoneauth option of auth plugin %r, registered at run time" % plugin)

    unknown = []
    for section in validator.KNOWN_BAD_GROUPS:
        for option in sections.get(section, {}):
            if option not in conf._osk_known.get(section, ()):
                unknown.append(section + "/" + option)

    # Only options the file sets can have a bad value: a default that
    # refers to an option of another file's namespaces ($state_path of
    # neutron.conf in l3_agent.ini) cannot be read alone, and is not osk's.
    written = {(s, o) for s, opts in sections.items() for o in opts}
    try:
        conf(args=[], default_config_files=[path], default_config_dirs=[], use_env=False)
    except cfg.Error as e:
        return {"runtime": runtime, "unknown": unknown, "errors": errors + ["(parsing the file): %s" % e]}
    for group in sorted(conf._osk_opts):
        node = conf if group == "DEFAULT" else conf[group]
        for dest, opt in sorted(conf._osk_opts[group].items()):
            try:
                getattr(node, dest)
            except Exception as e:
                if any((group, n) in written for n in names(opt)):
                    errors.append("%s/%s: %s: %s" % (group, dest, type(e).__name__, e))
    return {"runtime": runtime, "unknown": unknown, "errors": errors}


def main():
    logging.basicConfig(level=logging.ERROR)
    gen, files = sys.argv[1], sys.argv[2:]
    namespaces, dynamic, tempest_plugins, session_groups = read_generator(gen)
    groups, missing = load_namespaces(namespaces)
    out = {"missing": missing, "files": {}}
    if not missing:
        for path in files:
            out["files"][path] = check_file(path, groups, dynamic, tempest_plugins, session_groups)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
