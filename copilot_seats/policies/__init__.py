"""The CrossGuard policy pack's rules and catalogue (judged over resource inputs)."""
