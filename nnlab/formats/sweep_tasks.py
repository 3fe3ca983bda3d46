"""The task folders a sweep made, `DIR/tasks.json`: cleaning up after an interrupted or
retried task removes only folders listed here (never a folder a user keeps under runs/,
never through a link), and a task never starts in a folder the sweep did not make."""
from dataclasses import dataclass, field

from nnlab.formats import schema


@dataclass(kw_only=True)
class TaskFolders(schema.Document, format='nnlab-sweep-tasks-1'):
    folders: list[str] = field(default_factory=list)     # relative to DIR: runs/<setting>/..

    def problem(self):
        for name in self.folders:
            parts = name.replace('\\', '/').split('/')
            if len(parts) != 3 or parts[0] != 'runs' or '..' in parts or '' in parts:
                return f"folders: {name[:60]!r} is not a task folder (runs/SETTING/SEEDS)"
        return None
