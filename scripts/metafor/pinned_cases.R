#!/usr/bin/env Rscript
## pinned_cases.R -- metafor reference values for extractor's own pooling tests.
##
## Usage:  Rscript pinned_cases.R OUT.json      (scripts/metafor/regenerate.sh calls it)
##
## Inputs are synthetic pain studies made up for this file (0-10 NRS and 0-100 VAS scores,
## responder counts, a few generic yi/vi edge cases); nothing is copied from elsewhere.
## For every escalc key and every (method, test) the file holds:
##   default   : rma() with metafor's default control, its confint(), predict(), weights, fit stats
##   precise   : the same with tight control (threshold 1e-10, tol 1e-12, maxiter 1000; confint
##               tol 1e-12 and tau2.max = max(1e6, 1e4 tau2)) -- what an exact solver must equal
##   error / warnings as metafor reports them.
## Plus leave1out(), cumul(), regtest() (model "rma" and "lm") and subgroup fits.
## Non-finite numbers are written as "NaN"/"Inf"/"-Inf"; NA as null.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
out_path <- if (length(args) >= 1) args[1] else "pinned.json"

num <- function(x) {
  if (is.null(x) || length(x) == 0) return(NA)
  x <- as.numeric(x)[1]
  if (is.nan(x)) return("NaN")
  if (is.na(x)) return(NA)
  if (is.infinite(x)) return(if (x > 0) "Inf" else "-Inf")
  x
}
vec <- function(x) I(sapply(as.numeric(x), function(v) if (is.na(v) && !is.nan(v)) NA else v))
capture <- function(expr) {
  warns <- character(0)
  val <- withCallingHandlers(
    tryCatch(expr, error = function(e) e),
    warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") },
    message = function(m) invokeRestart("muffleMessage"))
  list(value = val, warnings = unique(warns),
       error = if (inherits(val, "error")) conditionMessage(val) else NULL)
}

## ------------------------------------------------------------------ synthetic pain data
datasets <- list(
  nrs_rct = data.frame(            # analgesic vs placebo, 0-10 NRS at 4 weeks
    study = paste0("R", 1:10),
    n1i = c(42, 18, 65, 30, 120, 25, 54, 38, 80, 22),
    m1i = c(3.9, 4.6, 3.2, 5.1, 4.0, 2.8, 4.4, 3.6, 4.8, 3.0),
    sd1i = c(2.1, 1.8, 2.4, 2.2, 1.9, 2.6, 2.0, 1.7, 2.3, 2.5),
    n2i = c(40, 20, 63, 31, 118, 24, 50, 41, 82, 21),
    m2i = c(5.2, 5.0, 4.9, 5.6, 4.6, 4.7, 5.3, 5.5, 5.1, 4.9),
    sd2i = c(2.0, 2.2, 2.1, 2.5, 2.0, 2.3, 1.8, 2.0, 2.2, 2.4),
    scale = c("NRS", "VAS", "NRS", "NRS", "VAS", "NRS", "VAS", "NRS", "VAS", "NRS")),
  vas_prepost = data.frame(        # single-arm pre/post, 0-100 VAS
    study = paste0("P", 1:9),
    ni = c(28, 44, 19, 63, 35, 52, 24, 71, 40),
    m_pre = c(68, 72, 61, 70, 75, 66, 63, 69, 71),
    sd_pre = c(14, 12, 17, 15, 11, 16, 18, 13, 15),
    m_post = c(41, 50, 30, 47, 39, 49, 35, 44, 52),
    sd_post = c(21, 19, 24, 20, 23, 18, 22, 19, 20),
    ri = c(0.45, 0.55, 0.30, 0.62, 0.50, 0.40, 0.35, 0.58, 0.50)),
  responders = data.frame(         # patients with >= 50 % pain relief, single arm
    study = paste0("S", 1:9),
    xi = c(0, 14, 22, 9, 31, 18, 25, 2, 16),
    ni = c(15, 30, 40, 12, 45, 18, 60, 26, 33)),
  responders_2arm = data.frame(    # responders, active vs control
    study = paste0("T", 1:9),
    ai = c(12, 0, 25, 7, 30, 0, 18, 9, 15),
    n1i = c(30, 20, 50, 25, 60, 18, 45, 22, 40),
    ci = c(6, 3, 14, 0, 21, 0, 10, 4, 9),
    n2i = c(31, 19, 48, 24, 62, 17, 44, 23, 41)),
  large_scale = data.frame(        # mean differences on a 0-100 scale, big heterogeneity
    study = paste0("L", 1:7),
    yi = c(-31, -4, -22, -48, -9, -27, 3),
    vi = c(18, 25, 12, 40, 9, 30, 22)),
  k2 = data.frame(study = c("A", "B"), yi = c(-0.45, -0.12), vi = c(0.031, 0.052)),
  identical = data.frame(study = paste0("I", 1:4), yi = rep(-0.3, 4), vi = c(0.02, 0.05, 0.03, 0.04)),
  near_homog = data.frame(study = paste0("H", 1:5), yi = c(-0.40, -0.38, -0.42, -0.39, -0.41),
                          vi = c(0.03, 0.04, 0.05, 0.02, 0.06)),
  tau2max_low = data.frame(study = paste0("M", 1:5), yi = c(0, 0, 0, 0, 40), vi = rep(1, 5)),
  zero_vi = data.frame(study = paste0("Z", 1:5), yi = c(0.10, 0.35, 0.52, 0.21, 0.70),
                       vi = c(0, 0.010, 0.020, 0.015, 0.030)),
  reml_oscillates = data.frame(study = paste0("O", 1:6),
                               yi = c(0.089, 0.059, -0.082, -0.001, 0.381, 0.204),
                               vi = c(0.06, 0.107, 0.139, 0.048, 0.022, 0.16))
)

two <- list(m1i = "m1i", sd1i = "sd1i", n1i = "n1i", m2i = "m2i", sd2i = "sd2i", n2i = "n2i")
mc <- list(m1i = "m_post", m2i = "m_pre", sd1i = "sd_post", sd2i = "sd_pre", ni = "ni", ri = "ri")
smcr <- list(m1i = "m_post", m2i = "m_pre", sd1i = "sd_pre", ni = "ni", ri = "ri")
pr <- list(xi = "xi", ni = "ni")
bin <- list(ai = "ai", n1i = "n1i", ci = "ci", n2i = "n2i")
gen <- list(yi = "yi", vi = "vi")
all_m <- c("EE", "DL", "REML", "ML", "PM", "HE", "SJ", "EB", "HS", "HSk", "PMM", "DLIT", "SJIT")
some_m <- c("EE", "DL", "REML", "PM", "SJ")
all_t <- c("z", "knha", "adhoc", "t")

specs <- list(
  list(key = "nrs_rct_SMD", data = "nrs_rct", measure = "SMD", args = two, methods = all_m),
  list(key = "nrs_rct_SMD_UB", data = "nrs_rct", measure = "SMD", args = two, vtype = "UB", methods = c("REML")),
  list(key = "nrs_rct_SMD_LS2", data = "nrs_rct", measure = "SMD", args = two, vtype = "LS2", methods = c("REML")),
  list(key = "nrs_rct_SMD_AV", data = "nrs_rct", measure = "SMD", args = two, vtype = "AV", methods = c("REML")),
  list(key = "nrs_rct_MD", data = "nrs_rct", measure = "MD", args = two, methods = some_m),
  list(key = "nrs_rct_MD_HO", data = "nrs_rct", measure = "MD", args = two, vtype = "HO", methods = c("DL")),
  list(key = "nrs_rct_ROM", data = "nrs_rct", measure = "ROM", args = two, methods = some_m, transf = "exp"),
  list(key = "nrs_rct_ROM_HO", data = "nrs_rct", measure = "ROM", args = two, vtype = "HO", methods = c("DL"), transf = "exp"),
  list(key = "vas_prepost_MC", data = "vas_prepost", measure = "MC", args = mc, methods = all_m),
  list(key = "vas_prepost_SMCC", data = "vas_prepost", measure = "SMCC", args = mc, methods = all_m),
  list(key = "vas_prepost_SMCR", data = "vas_prepost", measure = "SMCR", args = smcr, methods = some_m),
  list(key = "responders_PR", data = "responders", measure = "PR", args = pr, methods = some_m),
  list(key = "responders_PLO", data = "responders", measure = "PLO", args = pr, methods = all_m, transf = "ilogit"),
  list(key = "responders_PAS", data = "responders", measure = "PAS", args = pr, methods = some_m, transf = "iarcsin"),
  list(key = "responders_PFT", data = "responders", measure = "PFT", args = pr, methods = some_m, transf = "ipft.hm"),
  list(key = "responders_PLO_if0all", data = "responders", measure = "PLO", args = pr, add = 0.5, to = "if0all", methods = c("DL"), transf = "ilogit"),
  list(key = "responders_PR_none", data = "responders", measure = "PR", args = pr, add = 0, to = "none", methods = c("EE", "REML", "DL")),
  list(key = "responders_2arm_RR", data = "responders_2arm", measure = "RR", args = bin, methods = some_m, transf = "exp"),
  list(key = "responders_2arm_OR", data = "responders_2arm", measure = "OR", args = bin, methods = all_m, transf = "exp"),
  list(key = "responders_2arm_RD", data = "responders_2arm", measure = "RD", args = bin, methods = some_m),
  list(key = "responders_2arm_OR_drop00", data = "responders_2arm", measure = "OR", args = bin, drop00 = TRUE, methods = c("REML"), transf = "exp"),
  list(key = "responders_2arm_RR_all", data = "responders_2arm", measure = "RR", args = bin, add = 0.5, to = "all", methods = c("DL"), transf = "exp"),
  list(key = "large_scale_GEN", data = "large_scale", measure = "GEN", args = gen, methods = all_m),
  list(key = "k2_GEN", data = "k2", measure = "GEN", args = gen, methods = all_m),
  list(key = "identical_GEN", data = "identical", measure = "GEN", args = gen, methods = all_m),
  list(key = "near_homog_GEN", data = "near_homog", measure = "GEN", args = gen, methods = all_m),
  list(key = "tau2max_low_GEN", data = "tau2max_low", measure = "GEN", args = gen, methods = c("PM", "PMM", "REML")),
  list(key = "zero_vi_GEN", data = "zero_vi", measure = "GEN", args = gen, methods = all_m),
  list(key = "reml_oscillates_GEN", data = "reml_oscillates", measure = "GEN", args = gen, methods = c("REML", "ML"))
)

precise_fit <- list(threshold = 1e-10, tol = 1e-12, maxiter = 1000)
precise_fit_slow <- list(threshold = 1e-10, tol = 1e-12, maxiter = 1000, stepadj = 0.5)

out_fit <- function(res) list(
  estimate = num(res$beta), se = num(res$se), zval = num(res$zval), pval = num(res$pval),
  ci.lb = num(res$ci.lb), ci.ub = num(res$ci.ub), tau2 = num(res$tau2), se.tau2 = num(res$se.tau2),
  I2 = num(res$I2), H2 = num(res$H2), Q = num(res$QE), Q.pval = num(res$QEp),
  ddf = num(res$ddf), s2w = num(res$s2w), k = res$k, test = res$test)
out_predict <- function(res, transf = NULL, ni = NULL) {
  p <- if (is.null(transf)) capture(predict(res)) else {
    f <- switch(transf, exp = exp, ilogit = transf.ilogit, iarcsin = transf.iarcsin, ipft.hm = transf.ipft.hm)
    if (transf == "ipft.hm") capture(predict(res, transf = f, targs = list(ni = ni))) else capture(predict(res, transf = f))
  }
  if (!is.null(p$error)) return(list(error = p$error))
  p <- unclass(p$value)
  keep <- intersect(c("pred", "se", "ci.lb", "ci.ub", "pi.lb", "pi.ub"), names(p))
  setNames(lapply(keep, function(n) num(p[[n]])), keep)
}
out_confint <- function(res, control = NULL) {
  ci <- if (is.null(control)) capture(confint(res)) else capture(confint(res, control = control))
  if (!is.null(ci$error)) return(list(error = ci$error))
  r <- ci$value$random
  g <- function(row) list(estimate = num(r[row, "estimate"]), ci.lb = num(r[row, "ci.lb"]), ci.ub = num(r[row, "ci.ub"]))
  list(tau2 = g("tau^2"), tau = g("tau"), I2 = g("I^2(%)"), H2 = g("H^2"))
}
out_fitstats <- function(res) {
  fs <- res$fit.stats
  list(ML = setNames(lapply(rownames(fs), function(r) num(fs[r, "ML"])), rownames(fs)),
       REML = setNames(lapply(rownames(fs), function(r) num(fs[r, "REML"])), rownames(fs)))
}
fit_block <- function(yi, vi, method, test, control, transf, ni) {
  f <- if (is.null(control)) capture(rma(yi, vi, method = method, test = test))
       else capture(rma(yi, vi, method = method, test = test, control = control))
  if (!is.null(f$error)) return(list(error = f$error, warnings = I(f$warnings)))
  res <- f$value
  ci_control <- if (is.null(control)) NULL else list(tol = 1e-12, tau2.max = max(1e6, 1e4 * res$tau2))
  list(error = NA, warnings = I(f$warnings), outputs = out_fit(res),
       confint = if (method == "EE") list(error = "EE") else out_confint(res, ci_control),
       predict = out_predict(res),
       predict_transformed = if (is.null(transf)) NULL else out_predict(res, transf, ni),
       weights = I(as.numeric(weights(res))), fit_stats = out_fitstats(res), control = control)
}

escalc_out <- list()
cases <- list()
for (sp in specs) {
  d <- datasets[[sp$data]]
  if (sp$measure == "GEN") {
    yi <- d$yi; vi <- d$vi; ni <- rep(NA_real_, nrow(d)); opts <- list()
  } else {
    opts <- list(add = if (is.null(sp$add)) (if (sp$measure %in% c("PAS", "PFT")) 0 else 0.5) else sp$add,
                 to = if (is.null(sp$to)) "only0" else sp$to,
                 drop00 = if (is.null(sp$drop00)) FALSE else sp$drop00,
                 vtype = if (is.null(sp$vtype)) "LS" else sp$vtype)
    cl <- c(list(measure = sp$measure), lapply(sp$args, function(col) d[[col]]), opts)
    es <- do.call(escalc, cl)
    yi <- as.numeric(es$yi); vi <- as.numeric(es$vi)
    ni <- attr(es$yi, "ni"); ni <- if (is.null(ni)) rep(NA_real_, nrow(d)) else as.numeric(ni)
  }
  escalc_out[[sp$key]] <- list(dataset = sp$data, measure = sp$measure, args = sp$args, options = opts,
                               yi = vec(yi), vi = vec(vi), ni = vec(ni),
                               transform = if (is.null(sp$transf)) NA else sp$transf)
  nin <- ni[!is.na(yi)]
  for (m in sp$methods) for (tt in all_t) {
    prec <- if (sp$key == "reml_oscillates_GEN") precise_fit_slow else precise_fit
    cases[[length(cases) + 1]] <- list(
      id = paste(sp$key, m, tt, sep = "|"), key = sp$key, method = m, test = tt,
      default = fit_block(yi, vi, m, tt, NULL, sp$transf, nin),
      precise = if (m == "EE") NULL else fit_block(yi, vi, m, tt, prec, sp$transf, nin))
  }
}

## ------------------------------------------------------------------ analyses
seq_block <- function(x) {
  x <- unclass(x)
  keep <- c("estimate", "se", "zval", "pval", "pvals", "ci.lb", "ci.ub", "Q", "Qp", "tau2", "I2", "H2")
  keep <- intersect(keep, names(x))
  setNames(lapply(keep, function(n) vec(x[[n]])), sub("pvals", "pval", keep))
}
analyses <- list()
for (key in c("nrs_rct_SMD", "responders_PLO", "vas_prepost_SMCC")) {
  e <- escalc_out[[key]]
  yi <- as.numeric(e$yi); vi <- as.numeric(e$vi)
  for (m in c("DL", "REML", "EE", "PM")) for (tt in c("z", "knha")) {
    ctl <- if (m == "EE") list() else precise_fit
    res <- suppressWarnings(rma(yi, vi, method = m, test = tt, control = ctl))
    rt <- function(model) {
      r <- capture(regtest(res, model = model))
      if (!is.null(r$error)) return(list(error = r$error))
      v <- r$value
      list(zval = num(v$zval), pval = num(v$pval), dfs = num(v$dfs), est = num(v$est),
           ci.lb = num(v$ci.lb), ci.ub = num(v$ci.ub), slope = num(v$fit$beta[2]),
           tau2 = num(v$fit$tau2))
    }
    analyses[[length(analyses) + 1]] <- list(
      key = key, method = m, test = tt,
      leave1out = seq_block(leave1out(res)),
      cumul = seq_block(cumul(res)),
      regtest_rma = rt("rma"), regtest_lm = rt("lm"))
  }
}
## Egger with other estimators (rma model)
for (m in c("HE", "ML", "SJ", "EB", "HS", "PMM")) {
  e <- escalc_out[["nrs_rct_SMD"]]
  res <- rma(as.numeric(e$yi), as.numeric(e$vi), method = m, control = precise_fit)
  v <- regtest(res)
  analyses[[length(analyses) + 1]] <- list(key = "nrs_rct_SMD", method = m, test = "z",
    regtest_rma = list(zval = num(v$zval), pval = num(v$pval), dfs = num(v$dfs), est = num(v$est),
                       ci.lb = num(v$ci.lb), ci.ub = num(v$ci.ub), slope = num(v$fit$beta[2]),
                       tau2 = num(v$fit$tau2)))
}

## subgroups: separate fits per scale, then the Q test of the subgroup estimates
subgroups <- list()
e <- escalc_out[["nrs_rct_SMD"]]
yi <- as.numeric(e$yi); vi <- as.numeric(e$vi); grp <- datasets$nrs_rct$scale
for (m in c("DL", "REML")) for (tt in c("z", "knha")) {
  fits <- lapply(unique(grp), function(g) rma(yi[grp == g], vi[grp == g], method = m, test = tt,
                                                control = precise_fit))
  b <- sapply(fits, function(f) as.numeric(f$beta)); se <- sapply(fits, function(f) f$se)
  between <- rma(b, sei = se, method = "EE")
  subgroups[[length(subgroups) + 1]] <- list(
    key = "nrs_rct_SMD", groups = I(unique(grp)), method = m, test = tt,
    estimate = vec(b), se = vec(se), tau2 = vec(sapply(fits, function(f) f$tau2)),
    Q_between = num(between$QE), p_between = num(between$QEp))
}

out <- list(
  meta = list(generated = format(Sys.time(), "%Y-%m-%dT%H:%M:%S%z"), R = R.version.string,
              metafor = as.character(packageVersion("metafor")),
              precise_control = precise_fit,
              notes = I(c("default = metafor defaults; precise = tight control (see header of pinned_cases.R)",
                          "reml_oscillates_GEN precise uses stepadj = 0.5 (Fisher scoring oscillates at stepadj 1)"))),
  datasets = lapply(datasets, function(d) lapply(d, function(col) if (is.numeric(col)) vec(col) else I(as.character(col)))),
  escalc = escalc_out, cases = cases, analyses = analyses, subgroups = subgroups)
write_json(out, out_path, auto_unbox = TRUE, digits = NA, na = "null", null = "null", pretty = FALSE)
cat(sprintf("wrote %s: %d escalc keys, %d cases, %d analyses\n", out_path, length(escalc_out), length(cases), length(analyses)))
