"""What each plot of `report/plots/` shows, in words: a title, a caption, one line on how to read
it, and the report section it sits beside. The HTML page uses them for each `<figure>` (heading,
caption, alt text); other formats may too. Keyed by the plot's file name without `.png` (the
stems of `reporting/plots`); the per-trial learning curves are `trial_curves_<quantity>`.
"""

from __future__ import annotations

from dataclasses import dataclass

# The report sections a figure can sit beside (ids of the HTML page's sections), with their titles.
BEST = "best"
SEARCH = "search"
TRIALS = "trials"
EFFECTS = "effects"
DYNAMICS = "dynamics"
LEARNING_CURVE = "learning-curve"
CONFUSION = "confusion"
CAPACITY = "capacity"

SECTION_TITLES = {
    BEST: "Best trial",
    SEARCH: "How the search went",
    TRIALS: "Trials",
    EFFECTS: "Hyperparameter effects",
    DYNAMICS: "Training dynamics",
    LEARNING_CURVE: "Learning curve (will more data help?)",
    CONFUSION: "Confusion matrix",
    CAPACITY: "Capacity curve",
}

TRIAL_CURVES = "trial_curves_"  # + the quantity: loss, accuracy, ...


@dataclass(frozen=True)
class FigureText:
    title: str
    caption: str
    how_to_read: str
    section: str

    @property
    def alt(self) -> str:
        """A text alternative for the image: what it shows, not its file name."""
        return f"{self.title}: {self.caption}"


FIGURES: dict[str, FigureText] = {
    "history": FigureText(
        "Optimization history",
        "The objective of each trial in trial order, coloured by its diagnosis, with the best "
        "so far as a step line; trials that did not complete are crosses along the bottom and "
        "the best trial is a gold star.",
        "A step line that stops falling early means later trials found nothing better; points "
        "far from the line are configurations worth avoiding.",
        SEARCH,
    ),
    "curves_overlay": FigureText(
        "Validation curves of every trial",
        "Every trial's validation curve (the objective's metric when epochs.csv logs it, else "
        "the validation loss) on shared axes, coloured by diagnosis; the best trial is drawn "
        "thick with a star at its best epoch.",
        "Curves still falling at their last epoch would gain from more epochs; curves that turn "
        "up after a minimum overfit from that epoch on.",
        SEARCH,
    ),
    "timeline": FigureText(
        "Timeline of trials per worker",
        "One row per worker, one bar per trial from its start to its end, coloured by status.",
        "Gaps between bars are time a worker sat idle; long amber (failed) or grey (interrupted) "
        "bars are time spent on trials that gave no result.",
        SEARCH,
    ),
    "train_vs_validation_error": FigureText(
        "Bias and variance",
        "Train error (across) against validation error (up), one point per trial coloured by "
        "its diagnosis; the high-bias region (train error above the target plus the bias "
        "threshold) and the high-variance region (validation above train by more than the "
        "variance threshold) are shaded, with the diagonal and the target error dotted.",
        "Points to the right have high bias (a bigger network or longer training helps); points "
        "high above the diagonal have high variance (more data or regularization helps).",
        TRIALS,
    ),
    "importance": FigureText(
        "What mattered most",
        "One bar chart per target (the objective, the train error, the gap): each "
        "hyperparameter's importance, the share of the spread its values explain; solid where "
        "the effect is larger than the noise, pale and marked not significant otherwise.",
        "Tune the hyperparameters with solid, long bars first; pale bars are not distinguishable "
        "from noise in this search.",
        EFFECTS,
    ),
    "objective_vs_hyperparameters": FigureText(
        "Objective against each hyperparameter",
        "One panel per hyperparameter that varied: the objective of each completed trial "
        "against its value, coloured by diagnosis; a category's mean is a black bar and the "
        "best trial a star.",
        "A clear slope or a category whose bar sits apart shows a value that helps; a flat "
        "cloud means that hyperparameter made little difference here.",
        EFFECTS,
    ),
    "parallel": FigureText(
        "Parallel coordinates",
        "One vertical axis per hyperparameter that varied, then the objective; each completed "
        "trial is a line through its values, coloured by diagnosis, the best one thick on top.",
        "Follow the lines that end at the best objective back to the left: where they bunch on "
        "one axis, that value is shared by the good trials.",
        EFFECTS,
    ),
    "contour": FigureText(
        "Interaction of the two most important hyperparameters",
        "The objective over the plane of the two most important hyperparameters, interpolated "
        "between the completed trials (points); the best trial is a star; yellow is best.",
        "The best region is the yellow one; contour lines that run diagonally mean "
        "the two hyperparameters interact, so tune them together.",
        EFFECTS,
    ),
    "tradeoff": FigureText(
        "Objective against model size",
        "The objective of each completed trial with its 95% interval (an accuracy objective as "
        "accuracy, any other as the validation error, on which the tie is decided) against its "
        "number of trainable parameters (log axis); green diamonds are tied with the best.",
        "The leftmost green diamond (ringed) is as good as the best within the noise with the "
        "fewest parameters: the simplest tied trial, which search.keep: simplest_tied keeps.",
        BEST,
    ),
    "confusion_matrix": FigureText(
        "Confusion matrix of the best model",
        "One matrix per split (validation, then test): rows are the true class, columns the "
        "predicted one; the colour is the share of each true class, the number the count.",
        "A deep blue diagonal is good; a blue cell off the diagonal is a pair of classes the "
        "model confuses (its row's true class taken for its column's).",
        CONFUSION,
    ),
    "dynamics": FigureText(
        "Layer dynamics of the best trial",
        "Over the epochs of the best trial, one line per layer (the first blue, the last "
        "orange): the gradient norm on a log scale above, the share of dead units below; the "
        "best epoch dotted.",
        "First layers far below the last ones mean vanishing gradients; norms growing by orders "
        "of magnitude mean exploding ones; a high dead share means units stopped learning.",
        DYNAMICS,
    ),
    "learning_curve": FigureText(
        "Learning curve (data size)",
        "Train and validation error of the best trial's hyperparameters retrained on growing "
        "fractions of the training split, with their 95% intervals as bands.",
        "Curves still apart and validation error still falling at the right: more data should "
        "help; curves that have met: the bias is the problem, not the data.",
        LEARNING_CURVE,
    ),
    "capacity": FigureText(
        "Capacity curve",
        "The objective (above) and the train and validation errors (below) as the network grows "
        "one step per trial; a dashed line marks where growth stopped paying and the later "
        "steps are shaded.",
        "Read left to right: the size at which the objective stops improving by more than "
        "min_delta is big enough; a train error still above the target there means more than "
        "size is missing.",
        CAPACITY,
    ),
}

_TRIAL_CURVES = FigureText(
    "Learning curves per trial: {quantity}",
    "One panel per trial: training and validation {quantity} per epoch on one y scale shared "
    "by every panel, a dotted line at the best epoch (a star on the best trial's) and a note "
    "on diverged trials.",
    "Validation far above training means overfitting; both still falling at the last epoch "
    "means the trial would gain from more epochs.",
    TRIALS,
)


def figure_text(stem: str) -> FigureText:
    """The words for plot `stem` (a file name without .png); `trial_curves_<quantity>` names
    its quantity; a stem without an entry gets its own name as title, in the search section."""
    if stem in FIGURES:
        return FIGURES[stem]
    if stem.startswith(TRIAL_CURVES):
        quantity = stem[len(TRIAL_CURVES) :].replace("_", " ")
        return FigureText(
            _TRIAL_CURVES.title.format(quantity=quantity),
            _TRIAL_CURVES.caption.format(quantity=quantity),
            _TRIAL_CURVES.how_to_read,
            _TRIAL_CURVES.section,
        )
    name = stem.replace("_", " ")
    return FigureText(name.capitalize(), f"The plot {name} of this run.", "", SEARCH)
