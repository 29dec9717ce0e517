import LoadFeedback
import NIOCore
import XCTest

final class WeightPolicyTests: XCTestCase {
    let policy = WeightPolicy()

    func decide(
        base: Int = 32, factor: Double = 1, sinceAdmission: TimeAmount? = nil, _ evidence: WeightPolicy.Evidence
    ) -> WeightPolicy.Outcome {
        policy.decide(.init(baseWeight: base, factor: factor, sinceAdmission: sinceAdmission, evidence: evidence))
    }

    func testLoadAboveTheReferenceLowersTheWeightByAFractionOfTheCorrection() {
        // alpha = 1 - exp(-60/240) = 0.2212; 0.5 ^ 0.2212 = 0.858; 32 * 0.858 = 27.5
        let outcome = decide(.load(perCPU: 2, reference: 1, accountsFor: .seconds(60)))
        XCTAssertEqual(outcome.weight, 27)
        XCTAssertEqual(outcome.factor, 0.8579, accuracy: 0.0001)
        XCTAssertEqual(outcome.reason, "weight 27: load 2.00/cpu vs 1.00 reference, base 32")
    }

    func testLoadBelowTheReferenceRaisesTheWeight() {
        let outcome = decide(.load(perCPU: 0.5, reference: 1, accountsFor: .seconds(60)))
        XCTAssertEqual(outcome.weight, 37)  // 32 * 2 ^ 0.2212 = 37.3
    }

    func testOneSampleMovesAtMostAQuarterOfTheWayInRatio() {
        let longGap = decide(.load(perCPU: 16, reference: 1, accountsFor: .seconds(600)))
        XCTAssertEqual(longGap.weight, 16)  // (1/16) ^ 0.25 = 1/2
        let minute = decide(.load(perCPU: 16, reference: 1, accountsFor: .seconds(60)))
        XCTAssertEqual(minute.weight, 17)  // (1/16) ^ 0.2212 = 0.54
    }

    func testASampleAlreadyCountedChangesNothing() {
        let outcome = decide(factor: 1.5, .load(perCPU: 3, reference: 1, accountsFor: .zero))
        XCTAssertEqual(outcome.factor, 1.5)
        XCTAssertEqual(outcome.weight, 48)
    }

    func testDifferencesWithinTheToleranceAreIgnored() {
        let outcome = decide(factor: 1.25, .load(perCPU: 1.08, reference: 1, accountsFor: .seconds(60)))
        XCTAssertEqual(outcome.factor, 1.25)
        XCTAssertEqual(outcome.reason, "weight 40: load 1.08/cpu vs 1.00 reference, within 10%, base 32")
        let beyond = decide(factor: 1.25, .load(perCPU: 1.12, reference: 1, accountsFor: .seconds(60)))
        XCTAssertLessThan(beyond.factor, 1.25)
    }

    func testIdleServersBelowTheFloorAreEquallyIdle() {
        let outcome = decide(.load(perCPU: 0.01, reference: 0.15, accountsFor: .seconds(60)))
        XCTAssertEqual(outcome.weight, 32)
    }

    func testBoundsAreAQuarterAndFourTimesTheConfiguredWeight() {
        var factor = 1.0
        for _ in 0..<100 {
            factor = decide(factor: factor, .load(perCPU: 50, reference: 0.5, accountsFor: .seconds(60))).factor
        }
        let low = decide(factor: factor, .load(perCPU: 50, reference: 0.5, accountsFor: .seconds(60)))
        XCTAssertEqual(low.weight, 8)
        XCTAssertEqual(low.reason, "weight 8: load 50.00/cpu vs 0.50 reference, at the lowest (1/4 of base), base 32")
        for _ in 0..<100 {
            factor = decide(factor: factor, .load(perCPU: 0.2, reference: 5, accountsFor: .seconds(60))).factor
        }
        XCTAssertEqual(factor, 4)
        XCTAssertEqual(decide(factor: factor, .load(perCPU: 0.2, reference: 5, accountsFor: .seconds(60))).weight, 128)
    }

    func testLoadNeverTakesAServerOut() {
        let outcome = decide(base: 1, factor: 0.25, .load(perCPU: 900, reference: 0.1, accountsFor: .seconds(60)))
        XCTAssertEqual(outcome.weight, 1)
    }

    func testGarbageInputsNeverMakeAGarbageWeight() {
        for (load, reference) in [(Double.nan, 1.0), (-1, 1), (1, .infinity), (.infinity, 1)] {
            let outcome = decide(factor: 0.5, .load(perCPU: load, reference: reference, accountsFor: .seconds(60)))
            XCTAssertEqual(outcome.weight, 16, "\(load) vs \(reference)")
        }
        XCTAssertEqual(decide(factor: .nan, .none).weight, 32)
        XCTAssertEqual(decide(base: Int(Int32.max), factor: 4, .none).weight, Int(Int32.max))
    }

    func testNoWeightAboveTheTablesHighest() {
        // 20,000 x 4 would be 80,000: IPVS (as h2e gives it weights) takes 65535, and the reason says why.
        let capped = WeightPolicy(maximumWeight: 65535).decide(
            .init(baseWeight: 20000, factor: 4, sinceAdmission: nil, evidence: .none))
        XCTAssertEqual(capped.weight, 65535)
        XCTAssertTrue(capped.reason.hasPrefix("weight 65535: ") && capped.reason.contains("at the table's highest weight 65535"),
            capped.reason)
        let below = WeightPolicy(maximumWeight: 65535).decide(
            .init(baseWeight: 100, factor: 4, sinceAdmission: nil, evidence: .none))
        XCTAssertEqual(below.weight, 400)
        XCTAssertFalse(below.reason.contains("highest weight"), below.reason)
    }

    func testConfiguredZeroStaysZero() {
        let outcome = decide(base: 0, .load(perCPU: 0.1, reference: 1, accountsFor: .seconds(60)))
        XCTAssertEqual(outcome.weight, 0)
        XCTAssertEqual(outcome.reason, "weight 0: configured weight 0")
    }

    func testWithoutLoadTheWeightIsHeldThenReturnsToTheConfiguredOne() {
        let held = decide(factor: 0.5, .missing(since: .seconds(60), failure: .timedOut(.seconds(3))))
        XCTAssertEqual(held.weight, 16)
        XCTAssertTrue(held.reason.hasPrefix("weight 16: held, no usable load for 60 s: no complete answer"), held.reason)
        let reset = decide(factor: 0.5, .missing(since: .seconds(180), failure: .timedOut(.seconds(3))))
        XCTAssertEqual(reset.weight, 32)
        XCTAssertEqual(reset.factor, 1)
        XCTAssertTrue(reset.reason.hasPrefix("weight 32: configured, no usable load for 180 s"), reset.reason)
    }

    func testSlowStartRampsLinearlyFromOne() {
        let evidence = WeightPolicy.Evidence.load(perCPU: 0.1, reference: 1, accountsFor: .seconds(20))
        XCTAssertEqual(decide(sinceAdmission: .zero, evidence).weight, 1)
        let quarter = decide(sinceAdmission: .seconds(15), evidence)
        XCTAssertEqual(quarter.weight, 8)
        XCTAssertEqual(quarter.reason, "weight 8: slow start 15 of 60 s, base 32")
        XCTAssertEqual(decide(sinceAdmission: .seconds(45), evidence).weight, 24)
        XCTAssertGreaterThan(decide(sinceAdmission: .seconds(60), evidence).weight, 32, "after the slow start")
    }

    func testSlowStartBoundsTheStateSoTheWeightDoesNotJumpAfterIt() {
        let during = decide(factor: 3, sinceAdmission: .seconds(30), .missing(since: .zero, failure: .stale(ageSeconds: 1)))
        XCTAssertEqual(during.factor, 1)
        XCTAssertEqual(during.weight, 16)
    }

    func testSlowStartDoesNotRaiseAnOverloadedServer() {
        let outcome = decide(factor: 0.3, sinceAdmission: .seconds(45), .load(perCPU: 4, reference: 1, accountsFor: .seconds(20)))
        XCTAssertLessThan(outcome.factor, 0.3)
        XCTAssertFalse(outcome.reason.contains("slow start"), outcome.reason)
    }

    func testTheLoadAveragePolicyIsTodaysAndTheLiveOneTakesItsSpeedFromTheWindow() {
        let configured = WeightPolicy(slowStart: .seconds(30), holdTimeout: .seconds(90))
        XCTAssertEqual(configured.adapted(to: .loadAverage), configured)
        let live = configured.adapted(to: .live(window: .seconds(10)))
        XCTAssertEqual(live.timeConstant, .seconds(10))
        XCTAssertEqual(live.maximumStep, 0.5)
        XCTAssertEqual(live.sameSampleWindow, .zero)
        var rest = live
        rest.timeConstant = configured.timeConstant
        rest.maximumStep = configured.maximumStep
        rest.sameSampleWindow = configured.sameSampleWindow
        XCTAssertEqual(rest, configured, "bounds, floor, tolerance, slow start and hold are the configured ones")
        XCTAssertEqual(configured.adapted(to: .live(window: .seconds(1))).timeConstant, .seconds(5), "a young agent's short window")
    }

    func testALiveFigureMovesTheWeightWithTheLiveTimeConstant() {
        // alpha = 1 - exp(-2/10) = 0.1813; 0.5 ^ 0.1813 = 0.8819; 32 * 0.8819 = 28.2
        let live = decide(.load(perCPU: 2, reference: 1, accountsFor: .seconds(2), signal: .live(window: .seconds(10))))
        XCTAssertEqual(live.factor, pow(0.5, 1 - exp(-0.2)), accuracy: 1e-12)
        XCTAssertEqual(live.weight, 28)
        XCTAssertEqual(live.reason, "weight 28: live load 2.00 (10 s) vs 1.00 reference, base 32")
        // The same 2 s as a load average moves 1 - exp(-2/240): less than one weight unit.
        XCTAssertEqual(decide(.load(perCPU: 2, reference: 1, accountsFor: .seconds(2))).weight, 32)
        // After a long gap a live figure moves at most half the correction.
        let gap = decide(.load(perCPU: 4, reference: 1, accountsFor: .seconds(600), signal: .live(window: .seconds(10))))
        XCTAssertEqual(gap.factor, pow(0.25, 0.5), accuracy: 1e-12)
    }

    func testTheMinimumWeightIsTheLowestFactorOfTheBase() {
        XCTAssertEqual(policy.minimumWeight(base: 32), 8)
        XCTAssertEqual(policy.minimumWeight(base: 2), 1)
        XCTAssertEqual(policy.minimumWeight(base: 0), 0)
    }
}
