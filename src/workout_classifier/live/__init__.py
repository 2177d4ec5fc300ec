"""Live: the same stages on a camera or stream, frame by frame.

``tracker`` keeps the pose model, classifier and rep counter running on a stream
(``LiveTracker``), ``sets`` turns its decisions into sets, ``stream`` draws it on screen or to a file. An app: it may import every
stage (``frames``, ``pose``, ``learn``, ``analysis``) and ``predict``, ``annotate``; only
``serve`` and ``cli`` import it.
"""
