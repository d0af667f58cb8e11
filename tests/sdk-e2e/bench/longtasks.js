// Records every long task (main-thread work over 50 ms) from the page's start on.
window.benchLongTasks = [];
try {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      window.benchLongTasks.push({ start: entry.startTime, duration: entry.duration });
    }
  }).observe({ type: 'longtask', buffered: true });
  window.benchLongTasksObserved = true;
} catch (err) {
  window.benchLongTasksObserved = false;
}
