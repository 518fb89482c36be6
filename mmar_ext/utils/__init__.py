from .mmaction_tools import mmaction_tool_path, run_mmaction_tool

__all__ = ['mmaction_tool_path', 'run_mmaction_tool']
