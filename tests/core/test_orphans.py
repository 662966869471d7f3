"""Workers die with their parent (slimrlfn.core.orphans): the kernel's death signal, and the watcher thread."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests.helpers import outlives, process_alive

_PARENT = textwrap.dedent('''
    import os, subprocess, sys, time
    from slimrlfn.core.orphans import PARENT_PID_ENV, die_with_parent
    mode = sys.argv[1]
    child_code = ("from slimrlfn.core.orphans import watch_parent; import time; watch_parent(); time.sleep(60)"
                  if mode == "watch" else "import time; time.sleep(60)")
    env = dict(os.environ, **{PARENT_PID_ENV: str(os.getpid())})
    child = subprocess.Popen([sys.executable, "-c", child_code], env=env,
                             preexec_fn=die_with_parent if mode == "pdeathsig" else None)
    print(child.pid, flush=True)
    time.sleep(60)
''')


def _child_after_parent_killed(mode: str) -> bool:
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, mode], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    time.sleep(1.5)  # the child has started its watcher
    assert process_alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    return outlives(child)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_death_signal_kills_the_child_of_a_killed_parent():
    assert not _child_after_parent_killed("pdeathsig")


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc to tell a zombie from a live process")
def test_the_watcher_ends_the_child_of_a_killed_parent():
    assert not _child_after_parent_killed("watch")


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc to tell a zombie from a live process")
def test_without_either_guard_the_child_outlives_its_parent():
    """The control: so that the two tests above can fail."""
    assert _child_after_parent_killed("none")
