"""The SLO loop: one evaluation cycle for every SLO, through the ports it declares."""
