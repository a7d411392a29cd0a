"""The Roboflow Inference server, run by clipvi-tui itself.

``serve``: ``clipvi-tui serve``, the real Inference HTTP server in-process (needs the
``[server]`` extra). ``embedded``: the default local server that the app and the commands start
in a child process when none answers at a loopback ``api_url``, and stop when they exit.
"""
