"""Analysis of a classified clip: repetitions, form, posture and the timeline of a session.

``reps`` counts repetitions (and holds), ``repmeasures`` holds the body measures they read,
``repdetail`` describes each rep with cues, ``form`` judges push-up form, ``posture`` tells
resting from exercising, ``timeline`` splits a long clip into segments. Pure numpy on a
``PoseSequence`` and window probabilities; may import ``learn``, ``pose``, ``frames``.
"""
