// A stand-in for the CDS Hooks reference services' patient-greeting (Node/Express): parse the JSON body, read the
// patient's name from the prefetch, answer one card. It persists nothing. Written here so that the comparison fetches
// no one else's code; express comes from the lockfile beside it (npm ci --prefix bench).
// Usage: node bench/greeting-service.mjs [port=5194]
import express from 'express';
import { randomUUID } from 'node:crypto';

const app = express();
app.use(express.json({ limit: '1mb' }));

app.get('/cds-services', (request, response) => response.json({
  services: [{ hook: 'patient-view', id: 'patient-greeting', title: 'Patient greeting', description: 'Greets the patient',
    prefetch: { patient: 'Patient/{{context.patientId}}' } }],
}));

app.post('/cds-services/patient-greeting', (request, response) => {
  const patient = request.body?.prefetch?.patient;
  if (!patient) {
    response.status(412).json({ error: 'patient not prefetched' });
    return;
  }
  const name = patient.name?.[0]?.given?.[0] ?? patient.id;
  response.json({
    cards: [{ uuid: randomUUID(), summary: `Now seeing: ${name}`, indicator: 'info', source: { label: 'Patient greeting service' } }],
  });
});

const port = Number(process.argv[2] ?? 5194);
app.listen(port, '127.0.0.1');
