"""The analytic side of the course: closed-form solutions, kernel recursions, effective theories."""
