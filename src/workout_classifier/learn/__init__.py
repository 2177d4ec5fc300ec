"""Learning: from cached poses to a trained, evaluated exercise model.

``dataset`` reads a ``<root>/<exercise>/<clip>`` folder, ``stats`` describes it, ``features``
turns a ``PoseSequence`` into windows (pure numpy transforms), ``summary`` condenses a window
for the tree model, ``models`` holds every classifier behind one interface (``create_model``),
``train``, ``evaluate`` (grouped and leave-source-out CV), ``calibrate`` (the ``unknown``
gate), ``checkpoint`` (model files) and ``report`` (metrics, plots). May import ``pose``,
``frames`` and ``_quiet``; never ``analysis`` or the apps.
"""
