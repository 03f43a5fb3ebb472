"""The monitor's machine learning, without scikit-learn: TF-IDF, logistic regression, splits.

`canary monitor` runs every hour. Importing scikit-learn cost it close to a second of CPU a
run (scikit-learn pulls in scipy.stats), several times what its fits take, so the monitor uses
these small numpy implementations of what it needs instead:

* tokens: scikit-learn's word analyser (token pattern, English stop words, word n-grams);
* tfidf: scikit-learn's TfidfVectorizer matrix for the monitor's options;
* logistic: L2-regularised logistic regression, binary and multinomial, scikit-learn's
  objective solved tightly by Newton-CG (newton);
* split: stratified k folds and a stratified train/test split, seeded.

The TF-IDF matrices and the fitted probabilities match scikit-learn's (tests/monitor/learn
checks against it); the splits are stratified like scikit-learn's but not the same draws.
Only numpy and scipy.sparse are used; never scipy.stats or scikit-learn. What runs only when
asked for still uses scikit-learn: `--suggest-cases` (monitor/suggest.py, k-means) and the
`tfidf_cosine` scorer of `canary run` (scorers/similarity.py).
"""

from canary_eval.monitor.learn.logistic import LogisticRegression
from canary_eval.monitor.learn.split import stratified_kfold, stratified_split
from canary_eval.monitor.learn.tfidf import TfidfVectorizer
from canary_eval.monitor.learn.tokens import english_stop_words, word_analyser

__all__ = [
    "LogisticRegression",
    "TfidfVectorizer",
    "english_stop_words",
    "stratified_kfold",
    "stratified_split",
    "word_analyser",
]
